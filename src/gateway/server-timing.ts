import type { WorkerStamps } from '../trace/records.js';

/**
 * ms with µs precision: the nearest µs, as Server-Timing's `dur` (a number of
 * ms). Integer formatting, not toFixed: it runs five times on every answer,
 * at half toFixed's cost.
 */
export function durMs(ns: bigint): string {
  let us = Math.round(Number(ns) / 1e3);
  const sign = us < 0 ? '-' : '';
  if (us < 0) us = -us;
  const frac = us % 1000;
  return `${sign}${(us - frac) / 1000}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
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
