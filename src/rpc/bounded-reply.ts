import { encodeBodyReply, encodeReply, frameLength, type Frame } from './codec.js';
import { FRAME_HEADER_BYTES, ReplyErrorCode, type ResultForm } from './protocol.js';
import { bodyOf, valueOf, type Body } from './result-form.js';

/** What a call's handler answers: an error, or a result in either form (the one asked for, unless it comes from elsewhere). */
export interface Outcome {
  err?: { code: string; message: string };
  /** A value (value form). */
  result?: unknown;
  /** A body (body form): bytes, or JSON text. */
  body?: Body;
  /** The content type of a body, or of a binary value. */
  ctype?: string;
  t3_start: bigint;
  t3_end: bigint;
}

/**
 * Encodes a reply that the peer will accept, in the connection's result form
 * (a result made in the other form is turned into it here: the TCP front's
 * case). An outcome that cannot travel (msgpack or JSON cannot carry it, or
 * its frame would pass the frame limit, which makes the peer drop the whole
 * connection) becomes an error reply instead: that one call fails and every
 * other call on the link goes on. Returns the outcome actually sent, for the record.
 */
export function encodeBoundedReply(
  cid: number,
  outcome: Outcome,
  t3Recv: bigint,
  maxBodyBytes: number,
  form: ResultForm = 'value',
): { frame: Frame; outcome: Outcome } {
  let frame: Frame;
  try {
    frame = encodeOutcome(cid, outcome, t3Recv, form);
  } catch (err) {
    return errorReply(cid, outcome, t3Recv, ReplyErrorCode.functionError, `result not serialisable: ${(err as Error).message}`);
  }
  const body = frameLength(frame) - FRAME_HEADER_BYTES;
  if (body <= maxBodyBytes) return { frame, outcome };
  return errorReply(
    cid,
    outcome,
    t3Recv,
    ReplyErrorCode.resultTooLarge,
    `the result needs a reply of ${body} bytes; the RPC frame limit is ${maxBodyBytes}`,
  );
}

function encodeOutcome(cid: number, o: Outcome, t3Recv: bigint, form: ResultForm): Frame {
  const stamps = { t3_recv: t3Recv, t3_start: o.t3_start, t3_end: o.t3_end };
  if (o.err) return encodeReply({ t: 'reply', cid, err: o.err, ...stamps });
  if (form === 'body') {
    const b = o.body !== undefined ? { body: o.body, ctype: o.ctype! } : bodyOf(o.result, o.ctype);
    return encodeBodyReply(cid, b.body, b.ctype, t3Recv, o.t3_start, o.t3_end);
  }
  const v = o.body !== undefined ? valueOf(o.body, o.ctype) : { result: o.result, ctype: o.ctype };
  return encodeReply({ t: 'reply', cid, result: v.result, ctype: v.ctype, ...stamps });
}

function errorReply(cid: number, from: Outcome, t3Recv: bigint, code: string, message: string): { frame: Frame; outcome: Outcome } {
  const outcome: Outcome = { err: { code, message }, t3_start: from.t3_start, t3_end: from.t3_end };
  return { frame: encodeReply({ t: 'reply', cid, err: outcome.err, t3_recv: t3Recv, t3_start: from.t3_start, t3_end: from.t3_end }), outcome };
}
