/**
 * The original report's conclusion, decided from the data. It measured the
 * handler (step 1 received to step 5 sent, t5 − t1) and the delta (roundtrip
 * − handler), found the delta "at least one-third of the whole roundtrip for
 * small workloads", and concluded "a bottleneck between receiving a function
 * result and sending it back" (its §6, §7). The time between receiving the
 * result and sending the response is `respond` (t5 − t4); the delta lies
 * outside the handler altogether. So the conclusion holds where respond
 * itself reaches the report's own bar of one third.
 */
import type { CellSummary } from './cells.js';
import { byEndpoint } from './order.js';

export const SEED_BAR = 1 / 3;

export interface SeedShares {
  connections: number;
  respond_share: number;
  delta_share: number;
  handler_share: number;
  /**
   * With kernel stamps: the delta (numerically the caller link) split by the
   * kernel, over the requests that have the split (shares of their
   * roundtrip: wire + gateway socket wait + caller socket wait = delta). Null without.
   */
  delta_split: DeltaSplit | null;
}

export interface DeltaSplit {
  requests: number;
  delta_share: number;
  wire_share: number;
  gateway_socket_wait_share: number;
  caller_socket_wait_share: number;
}

export interface OriginalVerdict {
  /** The endpoint judged: the smallest workload run (`empty` when it ran). */
  endpoint: string;
  holds: boolean;
  /** All its cells pooled (Σ mean × n), and per connection count when several ran. */
  pooled: SeedShares;
  by_connections: SeedShares[];
  sentence: string;
}

export function originalVerdict(cells: readonly CellSummary[]): OriginalVerdict | null {
  const endpoint = [...new Set(cells.filter((c) => c.measured > 0).map((c) => c.endpoint))].sort(byEndpoint)[0];
  if (endpoint === undefined) return null;
  const mine = cells.filter((c) => c.endpoint === endpoint && c.measured > 0);
  const pooled = sharesOf(mine, 0);
  const counts = [...new Set(mine.map((c) => c.connections))].sort((a, b) => a - b);
  const byConnections = counts.length > 1 ? counts.map((n) => sharesOf(mine.filter((c) => c.connections === n), n)) : [];
  const holds = pooled.respond_share >= SEED_BAR;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const range =
    byConnections.length > 1
      ? ` From ${byConnections[0]!.connections} to ${byConnections.at(-1)!.connections} connections respond went from ` +
        `${pct(byConnections[0]!.respond_share)} to ${pct(byConnections.at(-1)!.respond_share)} and the delta from ` +
        `${pct(byConnections[0]!.delta_share)} to ${pct(byConnections.at(-1)!.delta_share)}.`
      : '';
  const split = pooled.delta_split;
  const measured = mine.reduce((n, c) => n + c.measured, 0);
  const inside =
    split === null
      ? `the network, the caller's own parsing and, under load, the wait for the gateway to read the request.`
      : `${split.requests === measured ? '' : `over the ${split.requests} of its ${measured} requests with kernel stamps (delta ${pct(split.delta_share)}), `}` +
        `${pct(split.wire_share)} wire, ${pct(split.gateway_socket_wait_share)} waiting for the gateway's loop to read the request, ` +
        `${pct(split.caller_socket_wait_share)} waiting for the caller's to read the response (the kernel's stamps).`;
  const sentence =
    `The original report's conclusion, a bottleneck between receiving a function result and sending it back, ` +
    `${holds ? 'holds' : 'does not hold'} here: on ${endpoint}, respond (t4→t5, inside the gateway after the reply arrived) ` +
    `is ${pct(pooled.respond_share)} of the roundtrip, ${holds ? 'above' : 'below'} the report's own bar of one third. ` +
    `Its delta (roundtrip − handler) is ${pct(pooled.delta_share)}, and lies outside the gateway's handler altogether: ${inside}${range}`;
  return { endpoint, holds, pooled, by_connections: byConnections, sentence };
}

function sharesOf(cells: readonly CellSummary[], connections: number): SeedShares {
  let roundtrip = 0;
  let respond = 0;
  let delta = 0;
  let handler = 0;
  for (const c of cells) {
    const m = c.stage_mean_us;
    roundtrip += m.roundtrip * c.measured;
    respond += m.respond * c.measured;
    delta += m.delta * c.measured;
    handler += m.handler * c.measured;
  }
  return { connections, respond_share: respond / roundtrip, delta_share: delta / roundtrip, handler_share: handler / roundtrip, delta_split: deltaSplit(cells) };
}

/** The cells' caller-link splits pooled: Σ mean × requests, as shares of the same requests' roundtrip. */
function deltaSplit(cells: readonly CellSummary[]): DeltaSplit | null {
  const splits = cells.map((c) => c.link_split?.caller).filter((x) => x != null);
  if (splits.length === 0) return null;
  let requests = 0;
  let roundtrip = 0;
  const sum = { caller_link: 0, wire: 0, gateway_socket_wait: 0, caller_socket_wait: 0 };
  for (const x of splits) {
    requests += x.requests;
    roundtrip += x.roundtrip_mean_us * x.requests;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += x.mean_us[k] * x.requests;
  }
  return {
    requests,
    delta_share: sum.caller_link / roundtrip,
    wire_share: sum.wire / roundtrip,
    gateway_socket_wait_share: sum.gateway_socket_wait / roundtrip,
    caller_socket_wait_share: sum.caller_socket_wait / roundtrip,
  };
}
