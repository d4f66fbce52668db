/**
 * The RPC wire protocol between gateway and worker. docs/rpc-protocol.md is
 * the normative description; keep the two in step.
 *
 * Frame: a 4-byte unsigned big-endian body length, then a msgpack body.
 * Bodies are msgpack maps with a `t` (type) key.
 */
import type { WorkerStamps } from '../trace/records.js';

/**
 * The version a client says hello with. 2 added ping/pong; 3, a successful
 * reply carrying the answer's bytes (`body`, with `ctype`) unless the hello
 * asks for values (`results: "value"`). A worker still serves versions 1 and
 * 2, whose replies carry values (`result`) as before (docs/rpc-protocol.md).
 */
export const PROTOCOL_VERSION = 3;
/** The oldest version a worker still speaks: a version-1 client never pings. */
export const MIN_PROTOCOL_VERSION = 1;
/** The first version with ping and pong. */
export const PING_VERSION = 2;
/** The first version whose replies carry bodies (unless the hello asks for values). */
export const BODY_VERSION = 3;
/** The content type of a `body` that is the JSON text of a function's value. */
export const JSON_CTYPE = 'application/json; charset=utf-8';
/** Largest body a peer accepts: POST /image bodies plus headroom. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;
/** Room a call frame needs besides one binary argument (ids, names, keys): a
 *  binary argument of up to MAX_FRAME_BYTES - this always fits in a frame. */
export const CALL_ENVELOPE_BYTES = 64 * 1024;
export const MAX_BINARY_ARG_BYTES = MAX_FRAME_BYTES - CALL_ENVELOPE_BYTES;
export const FRAME_HEADER_BYTES = 4;
/** Largest first frame, the hello, a peer reads before it is accepted: a
 *  client not yet authenticated makes the server hold no more than this. */
export const MAX_HELLO_BYTES = 4096;

/** Client → worker, first frame on every connection. */
export interface HelloMessage {
  t: 'hello';
  v: number;
  /** Shared secret, when the worker requires one. */
  secret?: string;
  /** Version 3: how successful replies carry results (default "body"); versions 1 and 2 get values. */
  results?: ResultForm;
}

/**
 * How a connection's successful replies carry results: `body`, the bytes an
 * HTTP answer needs (the value's JSON text, produced once where the function
 * ran, or its raw bytes), which a gateway forwards untouched; or `value`, a
 * msgpack value the client decodes (protocol version 1).
 */
export type ResultForm = 'body' | 'value';

/** Worker → client, answer to hello. */
export interface WelcomeMessage {
  t: 'welcome';
  /** The version the connection speaks: the hello's, when the worker knows it. */
  v: number;
  /** The names of the functions the worker serves. Added within version 1:
   *  a client that does not know it ignores it; a worker may leave it out. */
  fns?: string[];
  /** The worker reads `cancel` frames. Added within version 1: a client
   *  sends them only to a worker that says so. */
  cancel?: boolean;
}

/** A nested call's place in its request (docs/composition.md, "Calling other functions"). */
export interface Nesting {
  /** The id of the call that made this one. */
  parent: string;
  /** 1 for a call made by a call from the gateway. */
  depth: number;
  /** What was left of the parent's time limit when the call was made, ms: the callee's limit is at most this. */
  budgetMs: number;
  /** Workflows on the call's path, outermost first. */
  workflows: string[];
}

/** The deepest nesting a call frame or header may state (the worker's --max-call-depth is at most this). */
export const MAX_CALL_DEPTH_LIMIT = 100;

export interface CallMessage {
  t: 'call';
  /** Call id, unique among the calls in flight on this connection. */
  cid: number;
  /** Request id, the one on every record of this request. */
  rid: string;
  fn: string;
  args: Record<string, unknown>;
  /** The W3C trace id of the request, when it came with a traceparent (32
   *  lowercase hex digits). Added within version 1: absent otherwise. */
  tp?: string;
  /** A nested call (a function's ctx.call, a workflow's step): its parent,
   *  depth, budget and workflows on its path. On the wire a map
   *  {p: str, d: int, b: int ms, w: [str]}. Added within version 1. */
  nest?: Nesting;
}

export interface ReplyMessage extends WorkerStamps {
  t: 'reply';
  cid: number;
  /** On success, `value` form: any msgpack value; binary results are msgpack bin. */
  result?: unknown;
  /** On success, `body` form: the answer's bytes (a value's JSON text, or raw bytes). */
  body?: Uint8Array;
  /** Content type of a `body`, or of a binary `result`. */
  ctype?: string;
  /** Present on failure. */
  err?: { code: string; message: string };
  /** t3_send is always the last key and always a msgpack uint64, so it can be written
   *  into the encoded frame at the moment the frame goes to the socket. */
  t3_send: bigint;
}

/** Client → worker: the client no longer wants the answer of call `cid`
 *  (its own client left). The worker aborts the call's signal and still
 *  replies, so that the call leaves its record; the client drops that reply. */
export interface CancelMessage {
  t: 'cancel';
  cid: number;
}

/** Client → worker, version 2: a health check. The worker answers at once, from its event loop. */
export interface PingMessage {
  t: 'ping';
  /** Any uint32, echoed in the pong. */
  n: number;
}

/** Worker → client, version 2: the answer to a ping. */
export interface PongMessage {
  t: 'pong';
  n: number;
}

/** Either side, before it closes a connection for a protocol error. */
export interface ErrorMessage {
  t: 'error';
  code: string;
  message: string;
}

export type Message = HelloMessage | WelcomeMessage | CallMessage | CancelMessage | ReplyMessage | PingMessage | PongMessage | ErrorMessage;

/** A reply's `err.code` for a call whose cid is already in flight on its
 *  connection: a client's mistake, answered at once without running it. */
export const DUPLICATE_CID = 'duplicate_cid';

/** Error codes a function's outcome can carry in a reply (`err.code`). */
export const ReplyErrorCode = {
  unknownFunction: 'unknown_function',
  badInput: 'bad_input',
  functionError: 'function_error',
  functionTimeout: 'function_timeout',
  functionCrashed: 'function_crashed',
  outOfMemory: 'out_of_memory',
  /** The result does not fit in one frame: this call fails, the link stays up. */
  resultTooLarge: 'result_too_large',
  /** Refused unrun: the connection or the server already has its most calls in flight. */
  overloaded: 'overloaded',
  /** Its client cancelled it or left; the function's signal was aborted. */
  cancelled: 'cancelled',
} as const;
export type ReplyErrorCode = (typeof ReplyErrorCode)[keyof typeof ReplyErrorCode];
