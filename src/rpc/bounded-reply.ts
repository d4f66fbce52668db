import { encodeReply } from './codec.js';
import { FRAME_HEADER_BYTES, ReplyErrorCode, type ReplyMessage } from './protocol.js';

type Outcome = Pick<ReplyMessage, 'result' | 'ctype' | 'err' | 't3_start' | 't3_end'>;

/**
 * Encodes a reply that the peer will accept. An outcome that cannot travel
 * (msgpack cannot carry it, or its frame would pass the frame limit, which
 * makes the peer drop the whole connection) becomes an error reply instead:
 * that one call fails and every other call on the link goes on. Returns the
 * outcome actually sent, for the record.
 */
export function encodeBoundedReply(
  cid: number,
  outcome: Outcome,
  t3Recv: bigint,
  maxBodyBytes: number,
): { frame: Buffer; outcome: Outcome } {
  let frame: Buffer;
  try {
    frame = encodeReply({ t: 'reply', cid, ...outcome, t3_recv: t3Recv });
  } catch (err) {
    return errorReply(cid, outcome, t3Recv, ReplyErrorCode.functionError, `result not serialisable: ${(err as Error).message}`);
  }
  const body = frame.length - FRAME_HEADER_BYTES;
  if (body <= maxBodyBytes) return { frame, outcome };
  return errorReply(
    cid,
    outcome,
    t3Recv,
    ReplyErrorCode.resultTooLarge,
    `the result needs a reply of ${body} bytes; the RPC frame limit is ${maxBodyBytes}`,
  );
}

function errorReply(cid: number, from: Outcome, t3Recv: bigint, code: string, message: string): { frame: Buffer; outcome: Outcome } {
  const outcome: Outcome = { err: { code, message }, t3_start: from.t3_start, t3_end: from.t3_end };
  return { frame: encodeReply({ t: 'reply', cid, ...outcome, t3_recv: t3Recv }), outcome };
}
