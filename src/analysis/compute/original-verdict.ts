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
  const sentence =
    `The original report's conclusion, a bottleneck between receiving a function result and sending it back, ` +
    `${holds ? 'holds' : 'does not hold'} here: on ${endpoint}, respond (t4→t5, inside the gateway after the reply arrived) ` +
    `is ${pct(pooled.respond_share)} of the roundtrip, ${holds ? 'above' : 'below'} the report's own bar of one third. ` +
    `Its delta (roundtrip − handler) is ${pct(pooled.delta_share)}, and lies outside the gateway's handler altogether: ` +
    `the network, the caller's own parsing and, under load, the wait for the gateway to read the request.${range}`;
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
  return { connections, respond_share: respond / roundtrip, delta_share: delta / roundtrip, handler_share: handler / roundtrip };
}
