import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { RpcClient } from '../rpc/client.js';
import { openRecordSink } from '../trace/record-writer.js';
import { ADAPTERS, type Framework } from './adapters/index.js';
import { GatewayCore, type Answer } from './core.js';
import { errorBody } from './errors.js';
import { normaliseTarget } from './normalise.js';
import { traceOf, traceServer } from './trace.js';
import { UploadBudget } from './upload-budget.js';

export interface GatewayOptions {
  framework: Framework;
  host: string;
  port: number;
  workers: string[];
  log?: string;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Bytes of request bodies in progress across the gateway (503 uploads_full beyond). */
  maxUploadsBytes: number;
  /** node's requestTimeout and headersTimeout: the whole request, and its headers, must arrive within these. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
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
  gateFrameworks(server, core, new UploadBudget(options.maxUploadsBytes, options.maxBodyBytes));
  traceServer(server, options.framework, sink); // t1 comes from node:http's channel, before the gate and every framework

  // The same connection policy for every framework: the caller keeps its
  // connections open for a whole run.
  server.keepAliveTimeout = 65_000;
  // A slow or stalled sender is cut off (408 from node) long before node's
  // 300 s default; the check runs every second instead of every 30 s.
  server.requestTimeout = options.requestTimeoutMs;
  server.headersTimeout = options.headersTimeoutMs;
  // Read when the server starts listening (node's typings omit the property).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, options.headersTimeoutMs);
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

/**
 * One gate in front of the framework's own request listener, for what the
 * frameworks read differently or cannot answer in JSON: the path is
 * normalised (normalise.ts); an HTTP/1.1 request without Host, which node
 * would refuse with a bare 400 before any framework saw it, gets the JSON
 * 400; a target that is neither a path nor an absolute URL (`OPTIONS *`), or
 * whose path holds a backslash, is no route (hono alone would answer a bare
 * 400). Everything else goes to the framework untouched.
 */
function gateFrameworks(server: Server, core: GatewayCore, uploads: UploadBudget): void {
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  const frameworks = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      return reply(res, core.fail(traceOf(req), 'bad_parameter', 'an HTTP/1.1 request must have a Host header'));
    }
    if (target.charCodeAt(0) === 47 /* '/' */) {
      const q = target.indexOf('?');
      const backslash = target.indexOf('\\');
      if (backslash !== -1 && (q === -1 || backslash < q)) return reply(res, core.notFound(traceOf(req), req.method ?? '', target));
      req.url = normaliseTarget(target);
    } else if (!/^https?:\/\//i.test(target)) {
      return reply(res, core.notFound(traceOf(req), req.method ?? '', target));
    }
    if (!uploads.admit(req, res)) {
      // Closed after the answer: keeping the connection would make node read
      // and discard the whole body, CPU spent at the sender's pace.
      res.setHeader('connection', 'close');
      const message = `uploads in progress already hold the gateway's limit of ${uploads.limitBytes} bytes; try again later`;
      return reply(res, core.fail(traceOf(req), 'uploads_full', message));
    }
    for (const listener of frameworks) listener.call(server, req, res);
  });
}

function reply(res: ServerResponse, a: Answer): void {
  res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': Buffer.byteLength(a.body), 'x-request-id': a.requestId });
  res.end(a.body);
}
