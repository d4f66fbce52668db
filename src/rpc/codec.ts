import { Decoder, Encoder } from '@msgpack/msgpack';
import { frame } from './framing.js';
import type { CallMessage, Message, ReplyMessage } from './protocol.js';

// Stamps are uint64 nanoseconds: BigInt on both ends, never a lossy double.
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });
const decoder = new Decoder({ useBigInt64: true });

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Encodes a message into a complete frame (length prefix included). */
export function encodeMessage(message: Message): Buffer {
  return frame(encoder.encodeSharedRef(message));
}

/**
 * Encodes a reply with a placeholder t3_send. Because t3_send is the last key
 * and a bigint always encodes as a 9-byte uint64, its value occupies the
 * frame's last 8 bytes: `writeSendStamp` fills them in just before the frame
 * is handed to the socket.
 */
export function encodeReply(reply: Omit<ReplyMessage, 't3_send'>): Buffer {
  return encodeMessage({ ...reply, t3_send: 0n } as ReplyMessage);
}

export function writeSendStamp(replyFrame: Buffer, stamp: bigint): void {
  replyFrame.writeBigUInt64BE(stamp, replyFrame.length - 8);
}

/** Decodes and shape-checks one frame body. Throws ProtocolError. */
export function decodeMessage(body: Uint8Array): Message {
  let value: unknown;
  try {
    value = decoder.decode(body);
  } catch (err) {
    throw new ProtocolError(`undecodable frame: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('frame body is not a msgpack map');
  }
  const m = value as Record<string, unknown>;
  switch (m.t) {
    case 'hello':
      if (typeof m.v !== 'number') throw new ProtocolError('hello without a version');
      return m as unknown as Message;
    case 'welcome':
      return m as unknown as Message;
    case 'call':
      return checkCall(m);
    case 'reply':
      return checkReply(m);
    case 'error':
      return { t: 'error', code: String(m.code), message: String(m.message) };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(m.t)}`);
  }
}

function checkCall(m: Record<string, unknown>): CallMessage {
  if (typeof m.cid !== 'number' || typeof m.rid !== 'string' || typeof m.fn !== 'string') {
    throw new ProtocolError('call needs cid (int), rid (str) and fn (str)');
  }
  const args = m.args ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ProtocolError('call args must be a map');
  }
  // It is written into the worker's record as it is.
  if (m.tp !== undefined && !(typeof m.tp === 'string' && /^[0-9a-f]{32}$/.test(m.tp))) {
    throw new ProtocolError('call tp must be a trace id of 32 lowercase hex digits');
  }
  return m as unknown as CallMessage;
}

function checkReply(m: Record<string, unknown>): ReplyMessage {
  if (typeof m.cid !== 'number') throw new ProtocolError('reply needs cid (int)');
  for (const k of ['t3_recv', 't3_start', 't3_end', 't3_send'] as const) {
    if (typeof m[k] !== 'bigint') throw new ProtocolError(`reply needs ${k} (uint64)`);
  }
  return m as unknown as ReplyMessage;
}
