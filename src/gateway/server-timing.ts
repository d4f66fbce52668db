import type { WorkerStamps } from '../trace/records.js';

/** ms with µs precision: the nearest µs, as Server-Timing's `dur` (a number of ms). */
export function durMs(ns: bigint): string {
  return (Math.round(Number(ns) / 1e3) / 1e3).toFixed(3);
}

/**
 * The Server-Timing header (W3C Server Timing) of an answer the worker
 * replied to: the gateway's stages known before it responds, computed as
 * the analysis computes them from the record (docs/measurement.md), so a
 * browser's devtools shows the same values the record holds. The stage
 * names alone, without a `desc`: the header goes out on every answer.
 */
export function serverTiming(t1: bigint, t2: bigint, t4: bigint, w: WorkerStamps): string {
  return (
    `gateway_in;dur=${durMs(t2 - t1)}, ` +
    `rpc_link;dur=${durMs(t4 - t2 - (w.t3_send - w.t3_recv))}, ` +
    `worker_queue;dur=${durMs(w.t3_start - w.t3_recv)}, ` +
    `function;dur=${durMs(w.t3_end - w.t3_start)}, ` +
    `worker_out;dur=${durMs(w.t3_send - w.t3_end)}`
  );
}
