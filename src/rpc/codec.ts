import { Decoder, Encoder } from '@msgpack/msgpack';
import { frame } from './framing.js';
import { FRAME_HEADER_BYTES, MAX_CALL_DEPTH_LIMIT, type CallMessage, type Message, type Nesting, type ReplyMessage } from './protocol.js';
import type { Body } from './result-form.js';

// Stamps are uint64 nanoseconds: BigInt on both ends, never a lossy double.
const newEncoder = () => new Encoder({ useBigInt64: true, ignoreUndefined: true });
let encoder = newEncoder();
/**
 * The encoder reuses one buffer, grown to the largest message it has encoded
 * and never shrunk: one 8 MiB result kept 8 MiB of Buffers in the TCP front
 * for its life (issue 30, a heap snapshot after soak:attack). Past this, the
 * next message gets a fresh encoder; the shared view just returned keeps the
 * old buffer only as long as its caller does.
 */
export const ENCODER_KEEP_BYTES = 1024 * 1024;

/** encoder.encodeSharedRef, dropping the encoder when its buffer grew past ENCODER_KEEP_BYTES. */
function encodeShared(value: unknown): Uint8Array {
  const view = encoder.encodeSharedRef(value);
  if (view.buffer.byteLength > ENCODER_KEEP_BYTES) encoder = newEncoder();
  return view;
}
const decoder = new Decoder({ useBigInt64: true });

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Encodes a message into a complete frame (length prefix included). */
export function encodeMessage(message: Message): Buffer {
  return frame(encodeShared(message));
}

const EMPTY_MAP = new Uint8Array([0x80]);
const CALL_HEAD = Buffer.from([0xa1, 0x74, 0xa4, 0x63, 0x61, 0x6c, 0x6c, 0xa3, 0x63, 0x69, 0x64, 0xce]); // "t":"call","cid":uint32
const RID_KEY = Buffer.from([0xa3, 0x72, 0x69, 0x64]);
const FN_KEY = Buffer.from([0xa2, 0x66, 0x6e]);
const ARGS_KEY = Buffer.from([0xa4, 0x61, 0x72, 0x67, 0x73]);
const TP_KEY = Buffer.from([0xa2, 0x74, 0x70]);
const NEST_KEY = Buffer.from([0xa4, 0x6e, 0x65, 0x73, 0x74]); // "nest"

/** A nesting as its wire map. */
function nestBody(n: Nesting): Uint8Array {
  return encoder.encode({ p: n.parent, d: n.depth, b: Math.max(0, Math.floor(n.budgetMs)), w: n.workflows });
}

/** Bytes of a msgpack str header for a string of `n` UTF-8 bytes. */
const strHeaderBytes = (n: number) => (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);

function writeStr(out: Buffer, at: number, s: string, n: number): number {
  if (n < 32) out[at++] = 0xa0 | n;
  else if (n < 256) (out[at++] = 0xd9), (out[at++] = n);
  else if (n < 65536) (out[at++] = 0xda), out.writeUInt16BE(n, at), (at += 2);
  else (out[at++] = 0xdb), out.writeUInt32BE(n, at), (at += 4);
  return at + out.write(s, at, n, n === s.length ? 'latin1' : 'utf8');
}

/**
 * A call frame, written straight into one buffer: the same bytes
 * encodeMessage() gives (keys in the same order, cid always a uint32), but
 * only the arguments go through the msgpack encoder, and not at all when
 * there are none. The gateway encodes one per request: its fixed parts and
 * short ASCII strings (the request id, the function's name) are written byte
 * by byte, which costs less than Buffer's write(), copy() and byteLength()
 * calls on a few bytes each (about 1 µs of 2 per call in the gateway's profile).
 */
export function encodeCall(cid: number, rid: string, fn: string, args: Record<string, unknown>, tp: string | null, nest: Nesting | null = null): Buffer {
  // The nesting first: encode() reuses the encoder's buffer, which the args' shared view below points into.
  const nested = nest === null ? null : nestBody(nest);
  const body = isEmpty(args) ? EMPTY_MAP : encodeShared(args);
  const ridBytes = utf8Length(rid);
  const fnBytes = utf8Length(fn);
  const size =
    1 + CALL_HEAD.length + 4 + RID_KEY.length + strHeaderBytes(ridBytes) + ridBytes + FN_KEY.length + strHeaderBytes(fnBytes) + fnBytes +
    ARGS_KEY.length + body.length + (tp === null ? 0 : TP_KEY.length + strHeaderBytes(32) + 32) + (nested === null ? 0 : NEST_KEY.length + nested.length);
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  let at = putUint32(out, 0, size);
  out[at++] = 0x85 + (tp === null ? 0 : 1) + (nested === null ? 0 : 1);
  at = putBytes(out, at, CALL_HEAD);
  at = putUint32(out, at, cid);
  at = putBytes(out, at, RID_KEY);
  at = putStr(out, at, rid, ridBytes);
  at = putBytes(out, at, FN_KEY);
  at = putStr(out, at, fn, fnBytes);
  at = putBytes(out, at, ARGS_KEY);
  if (body === EMPTY_MAP) out[at++] = 0x80;
  else (out.set(body, at), (at += body.length));
  if (tp !== null) {
    at = putBytes(out, at, TP_KEY);
    at = putStr(out, at, tp, 32);
  }
  if (nested !== null) {
    at = putBytes(out, at, NEST_KEY);
    out.set(nested, at);
  }
  return out;
}

/** Strings up to this long are measured and written a character at a time. */
const SHORT_CHARS = 64;

/** UTF-8 bytes of `s`: its length when it is short and ASCII, as ids and names are, without a call into C++. */
export function utf8Length(s: string): number {
  if (s.length > SHORT_CHARS) return Buffer.byteLength(s);
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s);
  return s.length;
}

/** writeStr() for a string of `n` UTF-8 bytes; a short ASCII one is copied here. */
function putStr(out: Buffer, at: number, s: string, n: number): number {
  if (n !== s.length || n > SHORT_CHARS) return writeStr(out, at, s, n);
  if (n < 32) out[at++] = 0xa0 | n;
  else (out[at++] = 0xd9), (out[at++] = n);
  for (let i = 0; i < n; i++) out[at++] = s.charCodeAt(i);
  return at;
}

function putBytes(out: Buffer, at: number, bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i]!;
  return at;
}

function putUint32(out: Buffer, at: number, n: number): number {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
  return at + 4;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * Encodes a reply with a placeholder t3_send. Because t3_send is the last key
 * and a bigint always encodes as a 9-byte uint64, its value occupies the
 * frame's last 8 bytes: `writeSendStamp` fills them in just before the frame
 * is handed to the socket.
 */
export function encodeReply(reply: Omit<ReplyMessage, 't3_send'>): Buffer {
  // Object.assign, not a spread literal plus a key: on V8 11 that gives every
  // object a hidden class of its own, which keeps the reply alive into old space.
  return encodeMessage(Object.assign({}, reply, { t3_send: 0n }) as ReplyMessage);
}

/** A frame as one buffer, or as parts written one after the other (a large body is not copied into its frame). */
export type Frame = Buffer | Buffer[];

export function frameLength(f: Frame): number {
  if (!Array.isArray(f)) return f.length;
  let n = 0;
  for (const part of f) n += part.length;
  return n;
}

export function writeSendStamp(replyFrame: Frame, stamp: bigint): void {
  const last = Array.isArray(replyFrame) ? replyFrame[replyFrame.length - 1]! : replyFrame;
  last.writeBigUInt64BE(stamp, last.length - 8);
}

// "t":"reply","cid":uint32 follows
const REPLY_HEAD = Buffer.from([0xa1, 0x74, 0xa5, 0x72, 0x65, 0x70, 0x6c, 0x79, 0xa3, 0x63, 0x69, 0x64, 0xce]);
const CTYPE_KEY = Buffer.from([0xa5, 0x63, 0x74, 0x79, 0x70, 0x65]);
const T3_RECV_KEY = Buffer.from([0xa7, ...Buffer.from('t3_recv')]);
const T3_START_KEY = Buffer.from([0xa8, ...Buffer.from('t3_start')]);
const T3_END_KEY = Buffer.from([0xa6, ...Buffer.from('t3_end')]);
const BODY_KEY = Buffer.from([0xa4, 0x62, 0x6f, 0x64, 0x79]);
const T3_SEND_KEY = Buffer.from([0xa7, ...Buffer.from('t3_send')]);
/** The t3_send key and its uint64: the frame's last 17 bytes. */
const TAIL_BYTES = T3_SEND_KEY.length + 9;
/** A body from this size on travels as a part of its own, not copied into the frame. */
export const BODY_PART_BYTES = 64 * 1024;

const binHeaderBytes = (n: number) => (n < 256 ? 2 : n < 65536 ? 3 : 5);

function writeStamp(out: Buffer, at: number, key: Buffer, stamp: bigint): number {
  at += key.copy(out, at);
  out[at] = 0xcf;
  out.writeBigUInt64BE(stamp, at + 1);
  return at + 9;
}

/**
 * A reply whose result is a body, written straight into its frame: the keys
 * t, cid, ctype, t3_recv, t3_start, t3_end, body, t3_send in this order,
 * t3_send a placeholder as in encodeReply(). JSON text is encoded into the
 * frame once; bytes of BODY_PART_BYTES or more are not copied at all (the
 * frame is then three parts, written together).
 */
export function encodeBodyReply(cid: number, body: Body, ctype: string, t3Recv: bigint, t3Start: bigint, t3End: bigint): Frame {
  const text = typeof body === 'string';
  const bodyBytes = text ? Buffer.byteLength(body) : body.byteLength;
  const ctypeBytes = Buffer.byteLength(ctype);
  const head =
    1 + REPLY_HEAD.length + 4 + CTYPE_KEY.length + strHeaderBytes(ctypeBytes) + ctypeBytes +
    T3_RECV_KEY.length + T3_START_KEY.length + T3_END_KEY.length + 27 + BODY_KEY.length + binHeaderBytes(bodyBytes);
  const size = head + bodyBytes + TAIL_BYTES;
  const apart = !text && bodyBytes >= BODY_PART_BYTES;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + (apart ? head : size));
  out.writeUInt32BE(size, 0);
  let at = FRAME_HEADER_BYTES;
  out[at++] = 0x88;
  at += REPLY_HEAD.copy(out, at);
  out.writeUInt32BE(cid, at);
  at += 4;
  at += CTYPE_KEY.copy(out, at);
  at = writeStr(out, at, ctype, ctypeBytes);
  at = writeStamp(out, at, T3_RECV_KEY, t3Recv);
  at = writeStamp(out, at, T3_START_KEY, t3Start);
  at = writeStamp(out, at, T3_END_KEY, t3End);
  at += BODY_KEY.copy(out, at);
  if (bodyBytes < 256) (out[at++] = 0xc4), (out[at++] = bodyBytes);
  else if (bodyBytes < 65536) (out[at++] = 0xc5), out.writeUInt16BE(bodyBytes, at), (at += 2);
  else (out[at++] = 0xc6), out.writeUInt32BE(bodyBytes, at), (at += 4);
  if (apart) {
    const bytes = body as Uint8Array;
    const tail = Buffer.allocUnsafe(TAIL_BYTES);
    writeStamp(tail, 0, T3_SEND_KEY, 0n);
    return [out, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), tail];
  }
  if (text) at += out.write(body, at, bodyBytes, bodyBytes === body.length ? 'latin1' : 'utf8');
  else (out.set(body, at), (at += bodyBytes));
  writeStamp(out, at, T3_SEND_KEY, 0n);
  return out;
}

/** A nested call's arguments sent through a gateway: one msgpack map (throws otherwise). */
export function decodeArgs(body: Uint8Array): Record<string, unknown> {
  const value = decoder.decode(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) throw new ProtocolError('not a map');
  return value as Record<string, unknown>;
}

/** Decodes and shape-checks one frame body. Throws ProtocolError. */
export function decodeMessage(body: Uint8Array): Message {
  const reply = readReply(body);
  if (reply !== undefined) return reply;
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
      if (m.results !== undefined && m.results !== 'body' && m.results !== 'value') throw new ProtocolError('hello results must be "body" or "value"');
      return m as unknown as Message;
    case 'welcome':
      return m as unknown as Message;
    case 'call':
      return checkCall(m);
    case 'cancel':
      if (!isCallId(m.cid)) throw new ProtocolError('cancel needs cid (uint32)');
      return m as unknown as Message;
    case 'reply':
      return checkReply(m);
    case 'ping':
    case 'pong':
      if (typeof m.n !== 'number' || !Number.isInteger(m.n) || m.n < 0 || m.n > 0xffffffff) throw new ProtocolError(`${m.t} needs n (uint32)`);
      return { t: m.t, n: m.n };
    case 'error':
      return { t: 'error', code: String(m.code), message: String(m.message) };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(m.t)}`);
  }
}

const isCallId = (cid: unknown): cid is number => Number.isInteger(cid) && (cid as number) >= 0 && (cid as number) <= 0xffffffff;

function checkCall(m: Record<string, unknown>): CallMessage {
  if (!isCallId(m.cid) || typeof m.rid !== 'string' || typeof m.fn !== 'string') {
    throw new ProtocolError('call needs cid (uint32), rid (str) and fn (str)');
  }
  // Absent or nil: no arguments (the function sees an empty map, never null).
  const args = (m.args ??= {});
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ProtocolError('call args must be a map');
  }
  // It is written into the worker's record as it is.
  if (m.tp !== undefined && !(typeof m.tp === 'string' && /^[0-9a-f]{32}$/.test(m.tp))) {
    throw new ProtocolError('call tp must be a trace id of 32 lowercase hex digits');
  }
  if (m.nest !== undefined) m.nest = checkNest(m.nest);
  return m as unknown as CallMessage;
}

const NEST_ID = /^[\w.:-]{1,128}$/;
const NEST_WORKFLOW = /^[a-z][a-z0-9_-]{0,99}$/;

/** The wire map {p, d, b, w} as a Nesting; what it names goes into the worker's record as it is. */
function checkNest(raw: unknown): Nesting {
  const n = raw as { p?: unknown; d?: unknown; b?: unknown; w?: unknown } | null;
  const ok =
    typeof n === 'object' && n !== null && typeof n.p === 'string' && NEST_ID.test(n.p) &&
    typeof n.d === 'number' && Number.isInteger(n.d) && n.d >= 1 && n.d <= MAX_CALL_DEPTH_LIMIT &&
    typeof n.b === 'number' && Number.isInteger(n.b) && n.b >= 0 &&
    Array.isArray(n.w) && n.w.length <= MAX_CALL_DEPTH_LIMIT && n.w.every((w) => typeof w === 'string' && NEST_WORKFLOW.test(w));
  if (!ok) throw new ProtocolError('call nest must be {p: a request id, d: a depth from 1, b: ms, w: [workflow names]}');
  return { parent: n.p as string, depth: n.d as number, budgetMs: n.b as number, workflows: n.w as string[] };
}

function checkReply(m: Record<string, unknown>): ReplyMessage {
  if (typeof m.cid !== 'number') throw new ProtocolError('reply needs cid (int)');
  if (m.body !== undefined && !(m.body instanceof Uint8Array)) throw new ProtocolError('reply body must be bin');
  if (m.ctype !== undefined && typeof m.ctype !== 'string') throw new ProtocolError('reply ctype must be a str');
  for (const k of ['t3_recv', 't3_start', 't3_end', 't3_send'] as const) {
    if (typeof m[k] !== 'bigint') throw new ProtocolError(`reply needs ${k} (uint64)`);
  }
  return m as unknown as ReplyMessage;
}

const REPLY = [0xa5, 0x72, 0x65, 0x70, 0x6c, 0x79]; // "reply"
const MAX_MAP_KEYS = 15;

/**
 * A reply read key by key, without the generic decoder: the gateway reads one
 * per request. Stamps and the cid are read in place; only `result`, `ctype`
 * and `err` values go through msgpack, and not at all when the result is an
 * empty map or nil. Anything else (another message, another key, a stamp
 * that is not a uint64, a malformed body) is undefined, and the generic path
 * decodes or refuses it, so both paths accept exactly the same replies.
 */
function readReply(b: Uint8Array): ReplyMessage | undefined {
  if (b.length === 0) return undefined;
  const keys = b[0]! - 0x80;
  if (keys < 0 || keys > MAX_MAP_KEYS) return undefined;
  const view = b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let reply = false;
  let cid: number | undefined;
  let recv: bigint | undefined, start: bigint | undefined, end: bigint | undefined, send: bigint | undefined;
  let result: unknown, ctype: string | undefined, err: unknown, body: Uint8Array | undefined;
  let at = 1;
  for (let k = 0; k < keys; k++) {
    const klen = view[at]! - 0xa0;
    if (klen < 1 || klen > 8 || at + 1 + klen >= view.length) return undefined;
    const key = at + 1;
    at = key + klen;
    if (klen === 1 && view[key] === 0x74 /* t */) {
      for (let i = 0; i < REPLY.length; i++) if (view[at + i] !== REPLY[i]) return undefined;
      reply = true;
      at += REPLY.length;
      continue;
    }
    if (view[at] === 0xcf) {
      // A uint64: one of the four stamps.
      if (at + 9 > view.length) return undefined;
      const stamp = uint64At(view, at + 1);
      at += 9;
      if (isKey(view, key, klen, T3_RECV)) recv = stamp;
      else if (isKey(view, key, klen, T3_START)) start = stamp;
      else if (isKey(view, key, klen, T3_END)) end = stamp;
      else if (isKey(view, key, klen, T3_SEND)) send = stamp;
      else return undefined;
      continue;
    }
    const valueEnd = skip(view, at);
    if (valueEnd === -1) return undefined;
    if (isKey(view, key, klen, CID)) {
      const t = view[at]!;
      if (t < 0x80) cid = t;
      else if (t === 0xcc) cid = view[at + 1];
      else if (t === 0xcd) cid = view.readUInt16BE(at + 1);
      else if (t === 0xce) cid = view.readUInt32BE(at + 1);
      else return undefined;
    } else if (isKey(view, key, klen, RESULT)) {
      const t = view[at]!;
      result = t === 0x80 ? {} : t === 0xc0 ? null : decodeValue(view, at, valueEnd);
    } else if (isKey(view, key, klen, BODY)) {
      const t = view[at]!;
      // bin 8, 16, 32: the bytes in place, no copy.
      const from = t === 0xc4 ? at + 2 : t === 0xc5 ? at + 3 : t === 0xc6 ? at + 5 : -1;
      if (from === -1) return undefined;
      body = view.subarray(from, valueEnd);
    } else if (isKey(view, key, klen, CTYPE)) {
      const t = view[at]!;
      const from = t >= 0xa0 && t <= 0xbf ? at + 1 : t === 0xd9 ? at + 2 : t === 0xda ? at + 3 : t === 0xdb ? at + 5 : -1;
      if (from === -1) return undefined;
      ctype = ctypeAt(view, from, valueEnd);
    } else if (isKey(view, key, klen, ERR)) err = decodeValue(view, at, valueEnd);
    else return undefined;
    at = valueEnd;
  }
  if (!reply || at !== view.length || cid === undefined || recv === undefined || start === undefined || end === undefined || send === undefined) {
    return undefined;
  }
  const message: ReplyMessage = { t: 'reply', cid, t3_recv: recv, t3_start: start, t3_end: end, t3_send: send };
  if (result !== undefined) message.result = result;
  if (body !== undefined) message.body = body;
  if (ctype !== undefined) message.ctype = ctype;
  if (err !== undefined) message.err = err as ReplyMessage['err'];
  return message;
}

/**
 * A reply's content type, read as UTF-8: a worker sends the same few on
 * every reply, so the last one read is kept and its bytes compared, not
 * decoded into a new string per reply.
 */
let lastCtype = '';
let lastCtypeBytes: Buffer = Buffer.alloc(0);
function ctypeAt(view: Buffer, from: number, to: number): string {
  const n = to - from;
  if (n === lastCtypeBytes.length && n <= SHORT_CTYPE) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (view[from + i] !== lastCtypeBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastCtype;
  }
  const text = view.toString('utf8', from, to);
  if (n <= SHORT_CTYPE) {
    lastCtype = text;
    lastCtypeBytes = Buffer.from(view.subarray(from, to));
  }
  return text;
}
const SHORT_CTYPE = 128;

// Buffer's readBigUInt64BE builds its result from four BigInts; DataView's getBigUint64 allocates only the result.
const scratch = new DataView(new ArrayBuffer(8));
function uint64At(b: Buffer, at: number): bigint {
  for (let i = 0; i < 8; i++) scratch.setUint8(i, b[at + i]!);
  return scratch.getBigUint64(0);
}

const CID = Buffer.from('cid');
const T3_RECV = Buffer.from('t3_recv');
const T3_START = Buffer.from('t3_start');
const T3_END = Buffer.from('t3_end');
const T3_SEND = Buffer.from('t3_send');
const RESULT = Buffer.from('result');
const CTYPE = Buffer.from('ctype');
const BODY = Buffer.from('body');
const ERR = Buffer.from('err');

function isKey(view: Buffer, at: number, length: number, key: Buffer): boolean {
  if (length !== key.length) return false;
  for (let i = 0; i < length; i++) if (view[at + i] !== key[i]) return false;
  return true;
}

function decodeValue(view: Buffer, from: number, to: number): unknown {
  return decoder.decode(view.subarray(from, to));
}

// Sizes of the msgpack types 0xc0-0xdf: a whole value of fixed size, or (negative) the bytes of its length or count.
// prettier-ignore
const SIZES = [
  1, 0, 1, 1, -1, -2, -4, -1, -2, -4, 5, 9, 2, 3, 5, 9, // nil, (unused), false, true, bin8/16/32, ext8/16/32, float32/64, uint8-64
  2, 3, 5, 9, 3, 4, 6, 10, 18, -1, -2, -4, -2, -4, -2, -4, // int8-64, fixext1-16, str8/16/32, array16/32, map16/32
];

/** Where the msgpack value at `at` ends, or -1 when it runs past the buffer or is not msgpack. */
export function skip(b: Buffer, at: number): number {
  let items = 1;
  while (items-- > 0) {
    const t = b[at];
    if (t === undefined) return -1;
    if (t <= 0x7f || t >= 0xe0) at += 1;
    else if (t <= 0x8f) (items += 2 * (t & 0x0f)), (at += 1);
    else if (t <= 0x9f) (items += t & 0x0f), (at += 1);
    else if (t <= 0xbf) at += 1 + (t & 0x1f);
    else {
      const size = SIZES[t - 0xc0]!;
      if (size > 0) {
        at += size;
        continue;
      }
      const n = -size;
      if (n === 0 || at + 1 + n > b.length) return -1;
      const len = n === 1 ? b[at + 1]! : n === 2 ? b.readUInt16BE(at + 1) : b.readUInt32BE(at + 1);
      if (t >= 0xdc) (items += t >= 0xde ? 2 * len : len), (at += 1 + n);
      else at += 1 + n + (t >= 0xc7 && t <= 0xc9 ? 1 : 0) + len; // an ext has a type byte
    }
  }
  return at <= b.length ? at : -1;
}
