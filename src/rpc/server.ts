import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { BatchWriter } from './batch-writer.js';
import { decodeMessage, encodeMessage, encodeReply, ProtocolError, writeSendStamp } from './codec.js';
import { FrameDecoder, FrameError } from './framing.js';
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
  close(): Promise<void>;
}

export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { logger } = options;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, options);
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function serveConnection(socket: Socket, options: RpcServerOptions): void {
  const { logger, handle, onReplySent } = options;
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const decoder = new FrameDecoder(options.maxFrameBytes ?? MAX_FRAME_BYTES);
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

  function refuse(code: string, message: string): void {
    clearTimeout(helloTimer);
    logger.warn({ peer, code }, `closing rpc connection: ${message}`);
    if (!socket.destroyed) socket.end(encodeMessage({ t: 'error', code, message }));
    socket.destroySoon();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  socket.on('data', (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = decoder.push(chunk);
    } catch (err) {
      socket.removeAllListeners('data');
      return refuse('bad_frame', (err as FrameError).message);
    }
    for (const body of bodies) {
      const t3Recv = now();
      let message;
      try {
        message = decodeMessage(body);
      } catch (err) {
        socket.removeAllListeners('data');
        return refuse('bad_message', (err as ProtocolError).message);
      }
      if (!greeted) {
        if (message.t !== 'hello') return refuse('no_hello', 'the first frame must be a hello');
        if (message.v !== PROTOCOL_VERSION) {
          return refuse('bad_version', `protocol version ${message.v} is not ${PROTOCOL_VERSION}`);
        }
        if (options.secret !== undefined && message.secret !== options.secret) {
          return refuse('bad_secret', 'hello without the shared secret');
        }
        greeted = true;
        clearTimeout(helloTimer);
        socket.write(encodeMessage({ t: 'welcome', v: PROTOCOL_VERSION, fns: options.functions }));
        continue;
      }
      if (message.t !== 'call') return refuse('bad_message', `unexpected ${message.t} frame`);
      const call = message;
      if (running.has(call.cid)) {
        // The call already running under this id is left alone and answers in its time.
        sendReply(call, failure(DUPLICATE_CID, `call id ${call.cid} is already in flight on this connection`), t3Recv);
        continue;
      }
      running.add(call.cid);
      handle(call)
        .catch((err: Error): CallOutcome => failure('function_error', err.message))
        .then((outcome) => {
          running.delete(call.cid);
          sendReply(call, outcome, t3Recv);
        });
    }
  });
  function sendReply(call: CallMessage, outcome: CallOutcome, t3Recv: bigint): void {
    if (socket.destroyed) return;
    let frame: Buffer;
    try {
      frame = encodeReply({ t: 'reply', cid: call.cid, ...outcome, t3_recv: t3Recv });
    } catch (err) {
      // A function returned something msgpack cannot carry.
      outcome = failure('function_error', `result not serialisable: ${(err as Error).message}`, outcome);
      frame = encodeReply({ t: 'reply', cid: call.cid, ...outcome, t3_recv: t3Recv });
    }
    writer.enqueue(frame, { call, outcome, t3Recv });
  }

  socket.on('error', (err) => logger.debug({ peer, err }, 'rpc connection error'));
  socket.on('close', () => clearTimeout(helloTimer));
}

function failure(code: string, message: string, stamps?: CallOutcome): CallOutcome {
  const t = now();
  return { err: { code, message }, t3_start: stamps?.t3_start ?? t, t3_end: stamps?.t3_end ?? t };
}
