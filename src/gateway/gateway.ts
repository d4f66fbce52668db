import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { RpcClient } from '../rpc/client.js';
import { openRecordSink } from '../trace/record-writer.js';
import { ADAPTERS, type Framework } from './adapters/index.js';
import { GatewayCore } from './core.js';
import { errorBody } from './errors.js';
import { normaliseTarget } from './normalise.js';
import { traceServer } from './trace.js';

export interface GatewayOptions {
  framework: Framework;
  host: string;
  port: number;
  workers: string[];
  log?: string;
  timeoutMs: number;
  maxBodyBytes: number;
  secret?: string;
  connectionsPerWorker?: number;
  logger: Logger;
}

export interface RunningGateway {
  address: { host: string; port: number };
  url: string;
  rpc: RpcClient;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  const rpc = new RpcClient({
    workers: options.workers,
    logger,
    timeoutMs: options.timeoutMs,
    secret: options.secret,
    connectionsPerWorker: options.connectionsPerWorker,
  });
  const sink = options.log ? openRecordSink(options.log) : null;
  const core = new GatewayCore({ rpc, maxBodyBytes: options.maxBodyBytes });
  const server = await ADAPTERS[options.framework](core);
  // Before the frameworks, after t1 (traceServer prepends its own listener in front of this one).
  server.prependListener('request', (req: IncomingMessage) => {
    if (req.url !== undefined) req.url = normaliseTarget(req.url);
  });
  traceServer(server, options.framework, sink);
  // The same connection policy for every framework: the caller keeps its
  // connections open for a whole run.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Requests node's parser rejects before any framework sees them (header
  // overflow, malformed request line) get one JSON error for all frameworks:
  // fastify's own handler is replaced so that it answers like the rest.
  server.removeAllListeners('clientError');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const overflow = err.code === 'HPE_HEADER_OVERFLOW';
    const body = overflow
      ? errorBody('header_too_large', 'the request line or headers are too large')
      : errorBody('bad_parameter', `malformed HTTP request (${err.code ?? 'parse error'})`);
    const status = overflow ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(
      `HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.info(
    { framework: options.framework, url: `http://${host}:${address.port}`, workers: options.workers, records: options.log ?? null },
    'gateway listening',
  );
  return {
    address: { host: address.address, port: address.port },
    url: `http://${host}:${address.port}`,
    rpc,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      rpc.close();
      await sink?.close();
    },
  };
}
