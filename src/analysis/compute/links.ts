/**
 * The links split by the kernel, over a set of requests: the caller link into
 * wire, gateway socket wait and caller socket wait, the RPC link into RPC wire,
 * worker socket wait and gateway reply wait. Each split is taken over the
 * requests that have it (both arrivals of its link found), so that its parts
 * add up to its link exactly, in the means and in the shares.
 */
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { RequestTable } from '../read/table.js';
import { stageAt } from './stage-columns.js';
import { CALLER_LINK_PARTS, RPC_LINK_PARTS, type Stage } from './stages.js';

export type CallerSplitKey = 'caller_link' | (typeof CALLER_LINK_PARTS)[number];
export type RpcSplitKey = 'rpc_link' | (typeof RPC_LINK_PARTS)[number];

export interface SplitOf<K extends string> {
  /** Requests with this split. */
  requests: number;
  /** µs: their mean roundtrip, and each part's mean (the parts' means add up to the link's). */
  roundtrip_mean_us: number;
  mean_us: Record<K, number>;
  /** µs: medians, which do not add up. */
  p50_us: Record<K, number>;
  /** Σ part / Σ roundtrip over these requests: the parts' shares add up to the link's. */
  shares: Record<K, number>;
}

export interface LinkSplit {
  caller: SplitOf<CallerSplitKey> | null;
  rpc: SplitOf<RpcSplitKey> | null;
}

const US = 1e-3;

export function linkSplit(t: RequestTable, slots: ArrayLike<number>): LinkSplit | null {
  if (t.kernel === null) return null;
  const caller = splitOf(t, slots, 'caller_link', CALLER_LINK_PARTS);
  const rpc = splitOf(t, slots, 'rpc_link', RPC_LINK_PARTS);
  return caller === null && rpc === null ? null : { caller, rpc };
}

function splitOf<K extends string>(t: RequestTable, slots: ArrayLike<number>, link: K, parts: readonly K[]): SplitOf<K> | null {
  const keys = [link, ...parts] as K[];
  const values = keys.map(() => [] as number[]);
  let roundtrip = 0;
  for (let n = 0; n < slots.length; n++) {
    const i = slots[n]!;
    // The first part is NaN exactly when its link's split is missing.
    if (stageAt(t, parts[0] as Stage, i) !== stageAt(t, parts[0] as Stage, i)) continue;
    roundtrip += stageAt(t, 'roundtrip', i);
    keys.forEach((k, j) => values[j]!.push(stageAt(t, k as Stage, i)));
  }
  const count = values[0]!.length;
  if (count === 0) return null;
  const mean = {} as Record<K, number>;
  const p50 = {} as Record<K, number>;
  const shares = {} as Record<K, number>;
  keys.forEach((k, j) => {
    const v = Float64Array.from(values[j]!);
    const sum = v.reduce((a, b) => a + b, 0);
    mean[k] = (sum / count) * US;
    shares[k] = sum / roundtrip;
    p50[k] = percentileOfSorted(v.sort(), 50) * US;
  });
  return { requests: count, roundtrip_mean_us: (roundtrip / count) * US, mean_us: mean, p50_us: p50, shares };
}
