/**
 * Caller runs: the requests of one caller invocation, told apart by the id
 * prefix every caller run draws afresh (`c<12 hex>-`, then a counter) on its
 * own clock. `faasbench run` starts one caller run per cell and round, so a
 * cell's caller runs in time order are its rounds: the unit of replication.
 *
 * A caller run none of whose requests has a gateway record aimed at a server
 * that is not faasbench's gateway (or whose records were not collected): its
 * requests are analysed from the caller's records alone.
 */
import { HAS_CALLER, HAS_GATEWAY, type RequestTable } from './table.js';

export interface CallerRun {
  clock: number;
  prefix: string;
  /** No request of this run has a gateway record. */
  callerOnly: boolean;
  /** The cell it ran: the gateway's framework and function, or for a caller-only run its label and path. */
  framework: string;
  endpoint: string;
  connections: number;
  /** 1-based position among the runs of its cell, in time order. */
  round: number;
  firstT0: number;
  /** Open loop: its records carry t0_intended. */
  open: boolean;
}

export interface CallerRuns {
  /** Per slot: index into `runs`, or −1 for a request without a caller record. */
  runOf: Int32Array;
  runs: CallerRun[];
}

/** The framework a caller-only request is filed under when its run had no label. */
export const UNLABELLED = 'server';

export function callerRuns(t: RequestTable, unrouted: string): CallerRuns {
  const runOf = new Int32Array(t.size).fill(-1);
  const index = new Map<number, number>();
  const found: { clock: number; prefix: string; gatewaySlot: number; firstSlot: number; firstT0: number; open: boolean }[] = [];
  let lastClock = -1;
  let lastPrefix = -1;
  let lastRun = -1;
  for (let i = 0; i < t.size; i++) {
    const flags = t.u8.flags[i]!;
    if (!(flags & HAS_CALLER)) continue;
    const clock = t.u16.callerClock[i]!;
    const prefix = t.idPrefix(i);
    let run: number;
    // Records arrive in runs: most share the previous one's run, so skip the lookup.
    if (clock === lastClock && prefix === lastPrefix) {
      run = lastRun;
    } else {
      const key = clock * 2 ** 32 + prefix;
      let k = index.get(key);
      if (k === undefined) {
        index.set(key, (k = found.length));
        found.push({ clock, prefix: t.prefixText(prefix), gatewaySlot: -1, firstSlot: i, firstT0: Infinity, open: false });
      }
      run = k;
      lastClock = clock;
      lastPrefix = prefix;
      lastRun = k;
    }
    runOf[i] = run;
    const r = found[run]!;
    if (r.gatewaySlot < 0 && flags & HAS_GATEWAY) r.gatewaySlot = i;
    const t0 = t.f64.t0[i]!;
    if (t0 < r.firstT0) r.firstT0 = t0;
    if (!r.open && t.f64.t0_intended[i] === t.f64.t0_intended[i]) r.open = true;
  }
  const runs: CallerRun[] = found.map((r) => {
    const callerOnly = r.gatewaySlot < 0;
    const names = callerOnly ? callerOnlyNames(t, r.firstSlot) : gatewayNames(t, r.gatewaySlot, unrouted);
    return { clock: r.clock, prefix: r.prefix, callerOnly, ...names, connections: t.u32.connections[r.firstSlot]!, round: 0, firstT0: r.firstT0, open: r.open };
  });
  const byCell = new Map<string, CallerRun[]>();
  for (const r of runs) {
    const key = cellKey(r.framework, r.endpoint, r.connections);
    let list = byCell.get(key);
    if (!list) byCell.set(key, (list = []));
    list.push(r);
  }
  // Runs on different caller clocks cannot be ordered in time: by clock first, then by their first send.
  for (const list of byCell.values()) list.sort((a, b) => a.clock - b.clock || a.firstT0 - b.firstT0).forEach((r, k) => (r.round = k + 1));
  return { runOf, runs };
}

export const cellKey = (framework: string, endpoint: string, connections: number): string => `${framework}\u0000${endpoint}\u0000${connections}`;

/** A request the gateway recorded: its framework and function. */
export function gatewayNames(t: RequestTable, i: number, unrouted: string): { framework: string; endpoint: string } {
  return { framework: t.frameworks.value(t.u8.framework[i]!) ?? '?', endpoint: t.fns.value(t.u8.fn[i]!) ?? unrouted };
}

/** A request only the caller recorded: its run's label (or "server") and the request as sent ("GET /path?q"; the method only when not GET). */
export function callerOnlyNames(t: RequestTable, i: number): { framework: string; endpoint: string } {
  const request = t.requests.value(t.u32.request[i]!) ?? '';
  return { framework: t.labels.value(t.u32.label[i]!) ?? UNLABELLED, endpoint: request.startsWith('GET ') ? request.slice(4) : request || '?' };
}
