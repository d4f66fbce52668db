import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { BatchWriter } from './batch-writer.js';
import { encodeBoundedReply, type Outcome } from './bounded-reply.js';
import { decodeMessage, encodeMessage, ProtocolError, writeSendStamp } from './codec.js';
import { FrameDecoder, FrameError } from './framing.js';
import { HelloGuard } from './hello-guard.js';
import { BODY_VERSION, DUPLICATE_CID, FRAME_HEADER_BYTES, MAX_FRAME_BYTES, MIN_PROTOCOL_VERSION, PING_VERSION, PROTOCOL_VERSION, type CallMessage, type ReplyMessage, type ResultForm } from './protocol.js';
import { frameAt } from '../kernel/conn.js';
import type { FrameAt } from '../trace/records.js';

/** What a call handler answers; the server adds the cid and t3_recv / t3_send. */
export type CallOutcome = Outcome;

export interface RpcServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** `form`: how the call's connection takes results; an outcome in the other form is converted. */
  handle: (call: CallMessage, form: ResultForm) => Promise<CallOutcome>;
  /** Called once the reply frame went to the socket, with every stamp known (and, with `frameOffsets`, where the call arrived). */
  onReplySent?: (call: CallMessage, outcome: CallOutcome, t3Recv: bigint, t3Send: bigint, at: FrameAt | undefined) => void;
  /** Tell each call's connection and offset in the stream, for kernel stamps. */
  frameOffsets?: boolean;
  /** When set, a client's hello must carry it. */
  secret?: string;
  maxFrameBytes?: number;
  /** A client must say hello within this time, or it is disconnected. */
  helloTimeoutMs?: number;
  /** Function names announced in the welcome. */
  functions?: string[];
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
  /** Answers a call whose dispatch was cut short and dispatches the frames read after it. */
  resumeInterrupted(): void;
  close(): Promise<void>;
}

/**
 * The dispatch state shared by a server's connections, kept off the stack: a
 * function the inline watchdog terminates unwinds every frame above it, the
 * server's included, without running a `finally`.
 */
interface Pump {
  /** Answers the call being dispatched when that was cut short; null outside a dispatch. */
  cut: (() => void) | null;
  /** Connections with frames read and not yet dispatched. */
  ready: Set<() => void>;
}

/** Runs in a read or message callback only, where a termination is survivable. */
function pumpAll(pump: Pump): void {
  pump.cut?.();
  for (const drain of pump.ready) {
    // Taken off before it runs: a drain cut short is put back by its resume.
    pump.ready.delete(drain);
    drain();
  }
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { logger } = options;
  const sockets = new Set<Socket>();
  const guard = new HelloGuard(options.secret, logger);
  const pump: Pump = { cut: null, ready: new Set() };
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, options, guard, pump);
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
      return sockets.size;
    },
    resumeInterrupted: () => pumpAll(pump),
    close: () =>
      new Promise<void>((resolve) => {
        guard.refusals.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: Socket, options: RpcServerOptions, guard: HelloGuard, pump: Pump): void {
  const { logger, handle, onReplySent } = options;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  const decoder = new FrameDecoder(maxFrameBytes);
  const offsets = options.frameOffsets === true;
  let greeted = false;
  let form: ResultForm = 'value';
  /** The version the client said hello with. */
  let version = 0;
  /** Call ids of this connection still running: while there are, replies may wait to share a write. */
  const running = new Set<number>();
  const writer = new BatchWriter<Sent>(
    socket,
    (frame, sent, stamp) => {
      writeSendStamp(frame, stamp);
      onReplySent?.(sent.call, sent.outcome, sent.t3Recv, stamp, sent.at);
    },
    () => running.size > 0,
  );
  const helloTimer = setTimeout(
    () => refuse('hello_timeout', 'no hello within the time limit'),
    options.helloTimeoutMs ?? 5000,
  );

  function refuse(code: string, message: string, delayMs = 0): void {
    clearTimeout(helloTimer);
    socket.removeAllListeners('data');
    guard.refusals.note(code, socket.remoteAddress ?? peer, { message });
    guard.later(socket.remoteAddress ?? '', delayMs, () => {
      if (!socket.destroyed) socket.end(encodeMessage({ t: 'error', code, message }));
      socket.destroySoon();
      // A peer that never reads must not keep the socket open.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** One frame; false when the connection is refused and nothing more may be read. */
  function receive(body: Buffer, t3Recv: bigint, at: FrameAt | undefined): boolean {
    let message;
    try {
      message = decodeMessage(body);
    } catch (err) {
      socket.removeAllListeners('data');
      refuse('bad_message', (err as ProtocolError).message);
      return false;
    }
    if (!greeted) {
      if (message.t !== 'hello') return refuse('no_hello', 'the first frame must be a hello'), false;
      if (!(Number.isInteger(message.v) && message.v >= MIN_PROTOCOL_VERSION && message.v <= PROTOCOL_VERSION)) {
        return refuse('bad_version', `protocol version ${message.v} is not one of ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`), false;
      }
      const refused = guard.check(socket.remoteAddress ?? '', message.secret);
      if (refused) return refuse(refused.code, refused.message, refused.delayMs), false;
      greeted = true;
      version = message.v;
      form = version >= BODY_VERSION && message.results !== 'value' ? 'body' : 'value';
      clearTimeout(helloTimer);
      // The client's own version: the one this connection speaks.
      socket.write(encodeMessage({ t: 'welcome', v: version, fns: options.functions }));
      return true;
    }
    if (message.t === 'ping' && version >= PING_VERSION) {
      // At once and on its own: a health check measures this event loop, not the calls queued behind it.
      socket.write(encodeMessage({ t: 'pong', n: message.n }));
      return true;
    }
    if (message.t !== 'call') return refuse('bad_message', `unexpected ${message.t} frame`), false;
    const call = message;
    if (running.has(call.cid)) {
      // The call already running under this id is left alone and answers in its time.
      sendReply(call, failure(DUPLICATE_CID, `call id ${call.cid} is already in flight on this connection`), t3Recv, at);
      return true;
    }
    running.add(call.cid);
    cutCall = call;
    cutRecv = t3Recv;
    cutAt = at;
    pump.cut = resumeCut;
    const answer = handle(call, form);
    pump.cut = null;
    cutCall = null;
    answer
      .catch((err: Error): CallOutcome => failure('function_error', err.message))
      .then((outcome) => {
        running.delete(call.cid);
        sendReply(call, outcome, t3Recv, at);
      });
    return true;
  }

  // Frames read and not yet dispatched, with their read's t3_recv. A read
  // that completes several frames dispatches them one after the other; the
  // call after one whose promise settles here waits for a turn, so that a
  // promise settled at once is stamped (t3_end) before its neighbours are
  // dispatched, not after.
  let waiting: Buffer[] = [];
  let waitingRecv: bigint[] = [];
  let waitingAt: (FrameAt | undefined)[] = [];
  let next = 0;
  let turnPending = false;
  /** The call being dispatched, for resumeCut(). */
  let cutCall: CallMessage | null = null;
  let cutRecv = 0n;
  let cutAt: FrameAt | undefined;
  const settlesHere = options.settlesHere ?? (() => true);
  const turn = options.turn ?? ((f: () => void) => void Promise.resolve().then(f));

  function drain(): void {
    while (next < waiting.length && !turnPending) {
      const k = next++;
      if (!receive(waiting[k]!, waitingRecv[k]!, waitingAt[k])) {
        next = waiting.length;
        break;
      }
      if (next < waiting.length && settlesHere()) {
        turnPending = true;
        turn(afterTurn);
        return;
      }
    }
    if (next === waiting.length) {
      waiting = [];
      waitingRecv = [];
      waitingAt = [];
      next = 0;
    }
  }

  function afterTurn(): void {
    turnPending = false;
    pump.ready.add(drain);
    pumpAll(pump);
  }

  /** The dispatch of cutCall was cut short: its answer, then (by pumpAll) the frames after it. */
  function resumeCut(): void {
    pump.cut = null;
    const call = cutCall!;
    cutCall = null;
    running.delete(call.cid);
    sendReply(call, options.interrupted?.(call) ?? failure('function_error', `call ${call.cid} was interrupted`), cutRecv, cutAt);
    pump.ready.add(drain);
  }

  socket.on('data', (chunk: Buffer) => {
    // t3_recv: the bytes reached this process's JavaScript. Taken once per
    // read, before any decoding, and shared by every call the read completes:
    // decoding and dispatching the calls ahead of one is its worker queue.
    const t3Recv = now();
    let bodies: Buffer[];
    // The offset in the stream of the first frame this read completes.
    let off = decoder.consumed;
    try {
      bodies = decoder.push(chunk);
    } catch (err) {
      socket.removeAllListeners('data');
      return refuse('bad_frame', (err as FrameError).message);
    }
    if (bodies.length === 1 && next === waiting.length && !turnPending && pump.cut === null && pump.ready.size === 0) {
      receive(bodies[0]!, t3Recv, offsets ? frameAt(socket, off) : undefined);
      return;
    }
    for (const body of bodies) {
      waiting.push(body);
      waitingRecv.push(t3Recv);
      waitingAt.push(offsets ? frameAt(socket, off) : undefined);
      off += FRAME_HEADER_BYTES + body.length;
    }
    if (waiting.length > next) pump.ready.add(drain);
    pumpAll(pump);
  });

  function sendReply(call: CallMessage, outcome: CallOutcome, t3Recv: bigint, at: FrameAt | undefined): void {
    if (socket.destroyed) return;
    const sent = encodeBoundedReply(call.cid, outcome, t3Recv, maxFrameBytes, form);
    writer.enqueue(sent.frame, { call, outcome: sent.outcome, t3Recv, at });
  }

  socket.on('error', (err) => logger.debug({ peer, err }, 'rpc connection error'));
  socket.on('close', () => clearTimeout(helloTimer));
}

function failure(code: string, message: string, stamps?: CallOutcome): CallOutcome {
  const t = now();
  return { err: { code, message }, t3_start: stamps?.t3_start ?? t, t3_end: stamps?.t3_end ?? t };
}
