import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { SummaryLog, type Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { BatchWriter } from './batch-writer.js';
import { encodeBoundedReply, type Outcome } from './bounded-reply.js';
import { Cancel } from './cancel.js';
import { decodeMessage, encodeMessage, frameLength, ProtocolError, writeSendStamp } from './codec.js';
import { FrameQueue, pumpAll, type Pump } from './dispatch.js';
import { FrameDecoder, FrameError } from './framing.js';
import { HelloGuard } from './hello-guard.js';
import {
  BODY_VERSION,
  DUPLICATE_CID,
  FRAME_HEADER_BYTES,
  MAX_FRAME_BYTES,
  MAX_HELLO_BYTES,
  MIN_PROTOCOL_VERSION,
  PING_VERSION,
  PROTOCOL_VERSION,
  ReplyErrorCode,
  type CallMessage,
  type HelloMessage,
  type ResultForm,
} from './protocol.js';
import { SocketWatch } from './socket-watch.js';
import { frameAt } from '../kernel/conn.js';
import type { FrameAt } from '../trace/records.js';

export { Cancel } from './cancel.js';

/** The default of RpcLimits.maxReplyBytesPerConnection: two full frames. */
export const DEFAULT_REPLY_BYTES_PER_CONNECTION = 2 * MAX_FRAME_BYTES;

/** What a call handler answers; the server adds the cid and t3_recv / t3_send. */
export type CallOutcome = Outcome;

/** What one client may make the server hold (docs/commands.md, "Limits"). */
type LimitName = 'maxInflight' | 'maxInflightPerConnection' | 'maxPartialBytes' | 'maxReplyBytesPerConnection';

/** " (--the-flag)" after a refusal's limit, when the role named its flag. */
const flagNote = (limits: RpcLimits, k: LimitName): string => (limits.flags?.[k] ? ` (${limits.flags[k]})` : '');

export interface RpcLimits {
  /** Calls running at once, all connections together; beyond, a call is answered `overloaded` unrun. */
  maxInflight: number;
  /** Calls running at once on one connection; beyond, `overloaded`. */
  maxInflightPerConnection: number;
  /** A frame begun must arrive whole within this, or the connection is closed (`read_timeout`). */
  readTimeoutMs: number;
  /** Replies waiting for a peer that takes none of their bytes for this long: the connection is closed. */
  sendTimeoutMs: number;
  /** Bytes of frames in progress, all connections together (declared lengths); beyond, `uploads_full`. Unset: no such bound. */
  maxPartialBytes?: number;
  /**
   * Bytes of replies one connection may have waiting (encoded, not yet taken
   * by the kernel). At it, the connection's calls are not read, and a call
   * read meanwhile is answered `overloaded` unrun; a result that would pass it
   * while others wait is answered `overloaded` instead (a result alone always
   * goes). Unset: DEFAULT_REPLY_BYTES_PER_CONNECTION.
   */
  maxReplyBytesPerConnection?: number;
  /** The flag of each bound, for the refusals' messages. */
  flags?: Partial<Record<LimitName, string>>;
}

export interface RpcServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /**
   * Runs a call. `form`: how the call's connection takes results (an outcome in the other form is converted).
   * `cancel` fires when its client cancels it or leaves; the reply is still expected.
   */
  handle: (call: CallMessage, form: ResultForm, cancel: Cancel) => Promise<CallOutcome>;
  /** Called once the reply frame went to the socket, with every stamp known (and, with `frameOffsets`, where the call arrived). */
  onReplySent?: (call: CallMessage, outcome: CallOutcome, t3Recv: bigint, t3Send: bigint, at: FrameAt | undefined) => void;
  /** Tell each call's connection and offset in the stream, for kernel stamps. */
  frameOffsets?: boolean;
  /**
   * Called instead when the reply never reached its client: the connection
   * closed first (`cancelled`), or was cut off because the client took none
   * of its replies (`send_timeout`). `at`: when that was found.
   */
  onReplyDropped?: (call: CallMessage, outcome: CallOutcome, t3Recv: bigint, at: bigint, why: 'cancelled' | 'send_timeout') => void;
  /** When set, a client's hello must carry it. */
  secret?: string;
  maxFrameBytes?: number;
  /** A client must say hello within this time, or it is disconnected. */
  helloTimeoutMs?: number;
  limits: RpcLimits;
  /** Function names announced in the welcome. */
  functions?: string[];
  /** The welcome says `cancel` frames are read (the worker). */
  readsCancel?: boolean;
  /**
   * The answer for a call whose dispatch was cut short: `handle` never
   * returned because the inline watchdog terminated the function it ran.
   */
  interrupted?: (call: CallMessage) => CallOutcome | null;
  /**
   * Whether the call just dispatched left a promise that settles on this
   * thread (its t3_end is stamped in a reaction): then the next frame of the
   * same read waits for a turn (`turn`). Unset: a turn between every two frames.
   */
  settlesHere?: () => boolean;
  /** How a turn is waited for: a microtask unless told (the inline watchdog needs a message). */
  turn?: (next: () => void) => void;
}

interface Sent {
  call: CallMessage;
  outcome: CallOutcome;
  t3Recv: bigint;
  at: FrameAt | undefined;
}

export interface RpcServer {
  address: AddressInfo;
  /** Client connections open. */
  readonly connections: number;
  /** Calls running, all connections together. */
  readonly inflight: number;
  /** Answers a call whose dispatch was cut short and dispatches the frames read after it. */
  resumeInterrupted(): void;
  close(): Promise<void>;
}

/** What a server's connections share. */
interface Shared {
  options: RpcServerOptions;
  guard: HelloGuard;
  pump: Pump;
  watch: SocketWatch;
  connections: Map<Socket, Connection>;
  /** Calls running, all connections together. */
  inflight: number;
  /** Declared bytes of the frames in progress, all connections together. */
  partialBytes: number;
  /** Calls and results refused because their connection held its limit of replies not read. */
  heldBack: SummaryLog;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { logger, limits } = options;
  const guard = new HelloGuard(options.secret, logger);
  const connections = new Map<Socket, Connection>();
  const watch = new SocketWatch({
    sendTimeoutMs: limits.sendTimeoutMs,
    readTimeoutMs: limits.readTimeoutMs,
    onSendStall: (socket) => connections.get(socket)?.cutOff('send_timeout', `took none of its replies for ${limits.sendTimeoutMs} ms`),
    onReadStall: (socket) => connections.get(socket)?.refuse('read_timeout', `a frame did not arrive whole within ${limits.readTimeoutMs} ms`),
  });
  const heldBack = new SummaryLog(logger, 'calls refused: their connection holds its limit of replies not read');
  const shared: Shared = { options, guard, pump: { cut: null, ready: new Set() }, watch, connections, inflight: 0, partialBytes: 0, heldBack };
  const server: Server = createServer({ noDelay: true }, (socket) => {
    connections.set(socket, new Connection(socket, shared));
    socket.once('close', () => connections.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'rpc server error'));
  return {
    address: server.address() as AddressInfo,
    get connections() {
      return connections.size;
    },
    get inflight() {
      return shared.inflight;
    },
    resumeInterrupted: () => pumpAll(shared.pump),
    close: () =>
      new Promise<void>((resolve) => {
        guard.refusals.close();
        heldBack.close();
        watch.close();
        for (const s of connections.keys()) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * One client connection: its hello, the calls it may have running (and their
 * cancellation when it leaves), its frames in progress, and its replies.
 */
class Connection {
  private readonly peer: string;
  private readonly decoder: FrameDecoder;
  private readonly maxFrameBytes: number;
  private readonly queue: FrameQueue;
  private readonly writer: BatchWriter<Sent>;
  private readonly helloTimer: NodeJS.Timeout;
  private greeted = false;
  /** How this connection takes results (its hello's). */
  private form: ResultForm = 'value';
  /** The version the client said hello with. */
  private version = 0;
  /** Calls of this connection still running, by call id: while there are, replies may wait to share a write. */
  private readonly running = new Map<number, Cancel>();
  /** Bytes of the frame in progress counted in shared.partialBytes. */
  private reserved = 0;
  /** Why the server cut the connection off, if it did. */
  private cutFor: 'send_timeout' | null = null;
  /** The call being dispatched, for resumeCut(). */
  private cutCall: CallMessage | null = null;
  private cutRecv = 0n;
  private cutAt: FrameAt | undefined = undefined;
  /** Kernel stamps: each call's connection and offset in the stream. */
  private readonly offsets: boolean;
  /** RpcLimits.maxReplyBytesPerConnection. */
  private readonly maxReplyBytes: number;

  constructor(
    private readonly socket: Socket,
    private readonly shared: Shared,
  ) {
    const { options } = shared;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    this.offsets = options.frameOffsets === true;
    this.maxReplyBytes = options.limits.maxReplyBytesPerConnection ?? DEFAULT_REPLY_BYTES_PER_CONNECTION;
    // Until the hello is accepted, a client makes the server hold no more than a hello.
    this.decoder = new FrameDecoder(this.maxFrameBytes, Math.min(MAX_HELLO_BYTES, this.maxFrameBytes));
    this.queue = new FrameQueue(shared.pump, {
      receive: (body, t3Recv, at) => this.receive(body, t3Recv, at),
      settlesHere: options.settlesHere ?? (() => true),
      turn: options.turn ?? ((f) => void Promise.resolve().then(f)),
    });
    this.writer = new BatchWriter<Sent>(socket, {
      onFlush: (frame, _sent, stamp) => writeSendStamp(frame, stamp),
      busy: () => this.running.size > 0,
      // A reply is recorded once the kernel took it: one its client never took is recorded as such.
      onDone: (sent, stamp, delivered) => {
        if (delivered) this.report(() => options.onReplySent?.(sent.call, sent.outcome, sent.t3Recv, stamp, sent.at));
        else this.dropped(sent.call, sent.outcome, sent.t3Recv);
      },
    });
    this.helloTimer = setTimeout(() => this.refuse('hello_timeout', 'no hello within the time limit'), options.helloTimeoutMs ?? 5000);
    shared.watch.add(socket);
    socket.on('data', this.onData);
    socket.on('error', (err) => options.logger.debug({ peer: this.peer, err }, 'rpc connection error'));
    socket.on('close', () => this.closed());
  }

  private readonly onData = (chunk: Buffer): void => {
    // t3_recv: the bytes reached this process's JavaScript. Taken once per
    // read, before any decoding, and shared by every call the read completes:
    // decoding and dispatching the calls ahead of one is its worker queue.
    const t3Recv = now();
    let bodies: Buffer[];
    // The offset in the stream of the first frame this read completes.
    const off = this.decoder.consumed;
    try {
      bodies = this.decoder.push(chunk);
    } catch (err) {
      return this.refuse('bad_frame', (err as FrameError).message);
    }
    if (!this.holdPartial(bodies.length > 0)) return;
    if (bodies.length > 0) this.queue.push(bodies, t3Recv, this.offsets ? this.offsetsOf(bodies, off) : undefined);
    // A client that does not take its replies sends no more calls until it does (and is cut off after the send timeout).
    if (this.waitingBytes() >= this.maxReplyBytes && !this.socket.isPaused()) {
      this.socket.pause();
      this.socket.once('drain', () => this.socket.resume());
    }
  };

  /** Where each frame of one read arrived: its connection and its offset in the stream. */
  private offsetsOf(bodies: Buffer[], off: number): FrameAt[] {
    const ats: FrameAt[] = [];
    for (const body of bodies) {
      ats.push(frameAt(this.socket, off));
      off += FRAME_HEADER_BYTES + body.length;
    }
    return ats;
  }

  /** Accounts for the frame in progress (its read timeout, its bytes); false when that refused the connection. */
  private holdPartial(completedSome: boolean): boolean {
    const { shared, decoder } = this;
    const declared = decoder.pending > 0 ? decoder.declared : 0;
    shared.watch.reading(this.socket, decoder.pending > 0, completedSome);
    if (declared === this.reserved) return true;
    const max = shared.options.limits.maxPartialBytes;
    if (max !== undefined && declared > this.reserved && shared.partialBytes - this.reserved + declared > max) {
      this.refuse('uploads_full', `call frames in progress already hold the limit of ${max} bytes${flagNote(shared.options.limits, 'maxPartialBytes')}; try again later`);
      return false;
    }
    shared.partialBytes += declared - this.reserved;
    this.reserved = declared;
    return true;
  }

  /** One frame; false when the connection is refused and nothing more may be read. */
  private receive(body: Buffer, t3Recv: bigint, at: FrameAt | undefined): boolean {
    let message;
    try {
      message = decodeMessage(body);
    } catch (err) {
      return this.refuse('bad_message', (err as ProtocolError).message), false;
    }
    if (!this.greeted) return message.t === 'hello' ? this.hello(message) : (this.refuse('no_hello', 'the first frame must be a hello'), false);
    if (message.t === 'call') return this.call(message, t3Recv, at), true;
    if (message.t === 'ping' && this.version >= PING_VERSION) {
      // At once and on its own: a health check measures this event loop, not the calls queued behind it.
      this.socket.write(encodeMessage({ t: 'pong', n: message.n }));
      return true;
    }
    if (message.t === 'cancel') return this.running.get(message.cid)?.fire(), true;
    return this.refuse('bad_message', `unexpected ${message.t} frame`), false;
  }

  private hello(message: HelloMessage): boolean {
    const { options, guard } = this.shared;
    if (!(Number.isInteger(message.v) && message.v >= MIN_PROTOCOL_VERSION && message.v <= PROTOCOL_VERSION)) {
      return this.refuse('bad_version', `protocol version ${message.v} is not one of ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`), false;
    }
    const refused = guard.check(this.socket.remoteAddress ?? '', message.secret);
    if (refused) return this.refuse(refused.code, refused.message, refused.delayMs), false;
    this.greeted = true;
    this.version = message.v;
    this.form = this.version >= BODY_VERSION && message.results !== 'value' ? 'body' : 'value';
    clearTimeout(this.helloTimer);
    this.socket.write(encodeMessage({ t: 'welcome', v: this.version, fns: options.functions, cancel: options.readsCancel || undefined }));
    return true;
  }

  private call(call: CallMessage, t3Recv: bigint, at: FrameAt | undefined): void {
    const { shared } = this;
    if (this.running.has(call.cid)) {
      // The call already running under this id is left alone and answers in its time.
      return this.sendReply(call, failure(DUPLICATE_CID, `call id ${call.cid} is already in flight on this connection`), t3Recv, at);
    }
    const refusal = this.admit();
    if (refusal !== null) return this.sendReply(call, failure(ReplyErrorCode.overloaded, refusal), t3Recv, at);
    const cancel = new Cancel();
    this.running.set(call.cid, cancel);
    shared.inflight++;
    // Read before its connection closed, dispatched after: it runs cancelled and leaves its record.
    if (this.socket.destroyed) cancel.fire();
    this.cutCall = call;
    this.cutRecv = t3Recv;
    this.cutAt = at;
    shared.pump.cut = this.resumeCut;
    const answer = shared.options.handle(call, this.form, cancel);
    shared.pump.cut = null;
    this.cutCall = null;
    answer
      .catch((err: Error): CallOutcome => failure('function_error', err.message))
      .then((outcome) => this.finish(call, outcome, t3Recv, at));
  }

  /** Bytes of replies encoded for this connection and not yet taken by the kernel. */
  private waitingBytes(): number {
    return this.socket.writableLength + this.writer.pendingBytes;
  }

  /** Why a call may not run now, or null. */
  private admit(): string | null {
    const { limits } = this.shared.options;
    const waiting = this.waitingBytes();
    if (waiting >= this.maxReplyBytes) {
      this.shared.heldBack.note('call', this.peer, { waiting, limit: this.maxReplyBytes });
      return `this connection already has ${waiting} bytes of replies waiting for it to read, over its limit of ${this.maxReplyBytes}${flagNote(limits, 'maxReplyBytesPerConnection')}; try again later`;
    }
    if (this.running.size >= limits.maxInflightPerConnection) {
      return `this connection already has ${limits.maxInflightPerConnection} calls in flight, its limit${flagNote(limits, 'maxInflightPerConnection')}; try again later`;
    }
    if (this.shared.inflight >= limits.maxInflight) {
      return `the server already has ${limits.maxInflight} calls in flight, its limit${flagNote(limits, 'maxInflight')}; try again later`;
    }
    return null;
  }

  private finish(call: CallMessage, outcome: CallOutcome, t3Recv: bigint, at: FrameAt | undefined): void {
    this.shared.inflight--;
    this.running.delete(call.cid);
    this.sendReply(call, outcome, t3Recv, at);
  }

  /** The dispatch of cutCall was cut short: its answer, then (by pumpAll) the frames after it. */
  private readonly resumeCut = (): void => {
    const { options, pump } = this.shared;
    pump.cut = null;
    const call = this.cutCall!;
    this.cutCall = null;
    this.finish(call, options.interrupted?.(call) ?? failure('function_error', `call ${call.cid} was interrupted`), this.cutRecv, this.cutAt);
    this.queue.resume();
  };

  private sendReply(call: CallMessage, outcome: CallOutcome, t3Recv: bigint, at: FrameAt | undefined): void {
    if (this.socket.destroyed) return this.dropped(call, outcome, t3Recv);
    let sent = encodeBoundedReply(call.cid, outcome, t3Recv, this.maxFrameBytes, this.form);
    const waiting = this.waitingBytes();
    const size = frameLength(sent.frame);
    if (waiting > 0 && waiting + size > this.maxReplyBytes) {
      // Its client has not taken the replies before it: this one is not held for it too (the result is let go).
      this.shared.heldBack.note('result', this.peer, { waiting, limit: this.maxReplyBytes, bytes: size });
      const refused: CallOutcome = {
        err: {
          code: ReplyErrorCode.overloaded,
          message: `the reply (${size} bytes) would pass this connection's limit of ${this.maxReplyBytes} bytes of replies waiting for it to read${flagNote(this.shared.options.limits, 'maxReplyBytesPerConnection')}; ${waiting} are waiting`,
        },
        t3_start: outcome.t3_start,
        t3_end: outcome.t3_end,
      };
      sent = encodeBoundedReply(call.cid, refused, t3Recv, this.maxFrameBytes, this.form);
    }
    this.writer.enqueue(sent.frame, { call, outcome: sent.outcome, t3Recv, at });
  }

  private dropped(call: CallMessage, outcome: CallOutcome, t3Recv: bigint): void {
    const at = now();
    const why = this.cutFor ?? 'cancelled';
    this.report(() => this.shared.options.onReplyDropped?.(call, outcome, t3Recv, at, why));
  }

  /** A record or metric that fails is logged: it must not take the process, and every other call, down. */
  private report(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.shared.options.logger.error({ err }, 'could not record a call');
    }
  }

  /** Closes the connection with an `error` message (after `delayMs`, for a wrong secret). */
  refuse(code: string, message: string, delayMs = 0): void {
    const { socket, shared } = this;
    clearTimeout(this.helloTimer);
    socket.removeListener('data', this.onData);
    shared.guard.refusals.note(code, socket.remoteAddress ?? this.peer, { message });
    shared.guard.later(socket.remoteAddress ?? '', delayMs, () => {
      if (!socket.destroyed) socket.end(encodeMessage({ t: 'error', code, message }));
      socket.destroySoon();
      // A peer that never reads must not keep the socket open.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** Closes the connection at once: its peer takes no bytes, so no message would reach it. */
  cutOff(code: 'send_timeout', message: string): void {
    this.cutFor = code;
    this.shared.guard.refusals.note(code, this.socket.remoteAddress ?? this.peer, { message });
    this.socket.destroy();
  }

  /** Its calls still running are cancelled; their replies, when they come, are recorded as dropped. */
  private closed(): void {
    clearTimeout(this.helloTimer);
    this.shared.partialBytes -= this.reserved;
    this.reserved = 0;
    for (const cancel of this.running.values()) cancel.fire();
  }
}

function failure(code: string, message: string): CallOutcome {
  const t = now();
  return { err: { code, message }, t3_start: t, t3_end: t };
}
