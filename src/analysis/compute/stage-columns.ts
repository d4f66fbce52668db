/**
 * Applies the stage formulas of stages.ts to requests in the table. Stages
 * are computed on demand per group rather than stored: nine more columns of
 * doubles would cost ~100 MB for the original report's 1.5 M requests.
 */
import * as S from './stages.js';
import type { RequestTable } from '../read/table.js';

/** The stage's value of one request, in ns (NaN when a stamp is missing). */
export function stageAt(t: RequestTable, stage: S.Stage, i: number): number {
  const f = t.f64;
  switch (stage) {
    case 'gateway_in':
      return S.gatewayIn(f.t1[i]!, f.t2[i]!);
    case 'rpc_link':
      return S.rpcLink(f.t2[i]!, f.t3_recv[i]!, f.t3_send[i]!, f.t4[i]!);
    case 'worker_queue':
      return S.workerQueue(f.t3_recv[i]!, f.t3_start[i]!);
    case 'function':
      return S.functionTime(f.t3_start[i]!, f.t3_end[i]!);
    case 'worker_out':
      return S.workerOut(f.t3_end[i]!, f.t3_send[i]!);
    case 'respond':
      return S.respond(f.t4[i]!, f.t5[i]!);
    case 'caller_link':
      return S.callerLink(f.t0[i]!, f.t1[i]!, f.t5[i]!, f.t6[i]!);
    case 'roundtrip':
      return S.roundtrip(f.t0[i]!, f.t6[i]!);
    case 'roundtrip_intended':
      return S.roundtripIntended(f.t0_intended[i]!, f.t6[i]!);
    case 'handler':
      return S.handler(f.t1[i]!, f.t5[i]!);
    case 'delta':
      return S.delta(f.t0[i]!, f.t1[i]!, f.t5[i]!, f.t6[i]!);
    case 'latency':
      return S.latency(f.t0[i]!, f.t0_intended[i]!, f.t6[i]!);
  }
}

/** The stage's values for these slots, NaNs (missing stamps) left out. */
export function stageValues(t: RequestTable, stage: S.Stage, slots: ArrayLike<number>): Float64Array {
  const out = new Float64Array(slots.length);
  let n = 0;
  for (let k = 0; k < slots.length; k++) {
    const v = stageAt(t, stage, slots[k]!);
    if (v === v) out[n++] = v;
  }
  return n === out.length ? out : out.slice(0, n);
}
