import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { BatchWriter } from './batch-writer.js';
import { encodeBoundedReply } from './bounded-reply.js';
import { decodeMessage, encodeMessage, ProtocolError, writeSendStamp } from './codec.js';
import { FrameDecoder, FrameError } from './framing.js';
import { HelloGuard } from './hello-guard.js';
import { DUPLICATE_CID, MAX_FRAME_BYTES, PROTOCOL_VERSION, type CallMessage, type ReplyMessage } from './protocol.js';

/** What a call handler answers; the server adds the cid and t3_recv / t3_send. */
export type CallOutcome = Pick<ReplyMessage, 'result' | 'ctype' | 'err' | 't3_start' | 't3_end'>;

export interface RpcServerOptions {
  host: string;
  port: number;
  logger: Logger;
  handle: (call: CallMessage) => Promise<CallOutcome>;
  /** Called once the reply frame went to the socket, with every stamp known. */
  onReplySent?: (call: CallMessage, outcome: CallOutcome, t3Recv: bigint, t3Send: bigint) => void;
  /** When set, a client's hello must carry it. */
  secret?: string;
  maxFrameBytes?: number;
  /** A client must say hello within this time, or it is disconnected. */
  helloTimeoutMs?: number;
  /** Function names announced in the welcome. */
  functions?: string[];
}

interface Sent {
  call: CallMessage;
  outcome: CallOutcome;
  t3Recv: bigint;
}

export interface RpcServer {
  address: AddressInfo;
  /** Client connections open. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { logger } = options;
  const sockets = new Set<Socket>();
  const guard = new HelloGuard(options.secret, logger);
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, options, guard);
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
    close: () =>
      new Promise<void>((resolve) => {
        guard.refusals.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: Socket, options: RpcServerOptions, guard: HelloGuard): void {
  const { logger, handle, onReplySent } = options;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  const decoder = new FrameDecoder(maxFrameBytes);
  let greeted = false;
  /** Call ids of this connection still running: while there are, replies may wait to share a write. */
  const running = new Set<number>();
  const writer = new BatchWriter<Sent>(
    socket,
    (frame, sent, stamp) => {
      writeSendStamp(frame, stamp);
      onReplySent?.(sent.call, sent.outcome, sent.t3Recv, stamp);
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
  function receive(body: Buffer, t3Recv: bigint): boolean {
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
      if (message.v !== PROTOCOL_VERSION) {
        return refuse('bad_version', `protocol version ${message.v} is not ${PROTOCOL_VERSION}`), false;
      }
      const refused = guard.check(socket.remoteAddress ?? '', message.secret);
      if (refused) return refuse(refused.code, refused.message, refused.delayMs), false;
      greeted = true;
      clearTimeout(helloTimer);
      socket.write(encodeMessage({ t: 'welcome', v: PROTOCOL_VERSION, fns: options.functions }));
      return true;
    }
    if (message.t !== 'call') return refuse('bad_message', `unexpected ${message.t} frame`), false;
    const call = message;
    if (running.has(call.cid)) {
      // The call already running under this id is left alone and answers in its time.
      sendReply(call, failure(DUPLICATE_CID, `call id ${call.cid} is already in flight on this connection`), t3Recv);
      return true;
    }
    running.add(call.cid);
    handle(call)
      .catch((err: Error): CallOutcome => failure('function_error', err.message))
      .then((outcome) => {
        running.delete(call.cid);
        sendReply(call, outcome, t3Recv);
      });
    return true;
  }

  /**
   * Several frames from one read: each call is dispatched after the one
   * before has had its microtask turn, so a function whose promise settled at
   * once is stamped (t3_end) before its neighbours are dispatched, not after.
   */
  async function receiveAll(bodies: Buffer[], t3Recv: bigint): Promise<void> {
    for (let k = 0; k < bodies.length; k++) {
      if (k > 0) await null;
      if (!receive(bodies[k]!, t3Recv)) return;
    }
  }

  socket.on('data', (chunk: Buffer) => {
    // t3_recv: the bytes reached this process's JavaScript. Taken once per
    // read, before any decoding, and shared by every call the read completes:
    // decoding and dispatching the calls ahead of one is its worker queue.
    const t3Recv = now();
    let bodies: Buffer[];
    try {
      bodies = decoder.push(chunk);
    } catch (err) {
      socket.removeAllListeners('data');
      return refuse('bad_frame', (err as FrameError).message);
    }
    if (bodies.length === 1) receive(bodies[0]!, t3Recv);
    else if (bodies.length > 1) void receiveAll(bodies, t3Recv);
  });

  function sendReply(call: CallMessage, outcome: CallOutcome, t3Recv: bigint): void {
    if (socket.destroyed) return;
    const sent = encodeBoundedReply(call.cid, outcome, t3Recv, maxFrameBytes);
    writer.enqueue(sent.frame, { call, outcome: sent.outcome, t3Recv });
  }

  socket.on('error', (err) => logger.debug({ peer, err }, 'rpc connection error'));
  socket.on('close', () => clearTimeout(helloTimer));
}

function failure(code: string, message: string, stamps?: CallOutcome): CallOutcome {
  const t = now();
  return { err: { code, message }, t3_start: stamps?.t3_start ?? t, t3_end: stamps?.t3_end ?? t };
}
