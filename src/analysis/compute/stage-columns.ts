/**
 * Applies the stage formulas of stages.ts to requests in the table. Stages
 * are computed on demand per group rather than stored: nine more columns of
 * doubles would cost ~100 MB for the original report's 1.5 M requests.
 * With kernel stamps, the kernel's send (k5) stands for t5 where it was seen,
 * and the links' parts exist where both of their arrivals were found.
 */
import * as S from './stages.js';
import type { RequestTable } from '../read/table.js';
import type { KernelColumns } from '../read/kernel-join.js';

/** The stage's value of one request, in ns (NaN when a stamp is missing). */
export function stageAt(t: RequestTable, stage: S.Stage, i: number): number {
  const f = t.f64;
  const k = t.kernel;
  const t5 = k === null ? f.t5[i]! : S.handedOver(f.t5[i]!, k.k5[i]!);
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
      return S.respond(f.t4[i]!, t5);
    case 'caller_link':
      return S.callerLink(f.t0[i]!, f.t1[i]!, t5, f.t6[i]!);
    case 'roundtrip':
      return S.roundtrip(f.t0[i]!, f.t6[i]!);
    case 'roundtrip_intended':
      return S.roundtripIntended(f.t0_intended[i]!, f.t6[i]!);
    case 'handler':
      return S.handler(f.t1[i]!, t5);
    case 'delta':
      return S.delta(f.t0[i]!, f.t1[i]!, t5, f.t6[i]!);
    case 'latency':
      return S.latency(f.t0[i]!, f.t0_intended[i]!, f.t6[i]!);
    default:
      return k === null ? NaN : linkPartAt(k, f, stage, i, t5);
  }
}

/** A part of the caller link or the RPC link: NaN unless both arrivals of its link were found, so the parts always add up. */
function linkPartAt(k: KernelColumns, f: RequestTable['f64'], stage: S.LinkPart, i: number, t5: number): number {
  const k1 = k.k1[i]!;
  const k6 = k.k6[i]!;
  const k3 = k.k3[i]!;
  const k4 = k.k4[i]!;
  const caller = k1 === k1 && k6 === k6;
  const rpc = k3 === k3 && k4 === k4;
  switch (stage) {
    case 'wire':
      return caller ? S.wire(f.t0[i]!, k1, t5, k6) : NaN;
    case 'gateway_socket_wait':
      return caller ? S.gatewaySocketWait(k1, f.t1[i]!) : NaN;
    case 'caller_socket_wait':
      return caller ? S.callerSocketWait(k6, f.t6[i]!) : NaN;
    case 'rpc_wire':
      return rpc ? S.rpcWire(f.t2[i]!, k3, f.t3_send[i]!, k4) : NaN;
    case 'worker_socket_wait':
      return rpc ? S.workerSocketWait(k3, f.t3_recv[i]!) : NaN;
    case 'gateway_reply_wait':
      return rpc ? S.gatewayReplyWait(k4, f.t4[i]!) : NaN;
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
