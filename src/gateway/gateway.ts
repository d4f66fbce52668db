import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { RpcClient } from '../rpc/client.js';
import { openRecordSink } from '../trace/record-writer.js';
import { ADAPTERS, type Framework } from './adapters/index.js';
import { GatewayCore } from './core.js';
import { normaliseTarget } from './normalise.js';
import { rawErrorResponse, writeAnswer } from './reply.js';
import { traceOf, traceServer } from './request-log.js';

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
  gateFrameworks(server, core);
  traceServer(server, options.framework, sink); // t1 comes from node:http's channel, before the gate and every framework

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
    socket.end(
      err.code === 'HPE_HEADER_OVERFLOW'
        ? rawErrorResponse('header_too_large', 'the request line or headers are too large')
        : rawErrorResponse('bad_parameter', `malformed HTTP request (${err.code ?? 'parse error'})`),
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
function gateFrameworks(server: Server, core: GatewayCore): void {
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  const frameworks = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '';
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      return writeAnswer(res, core.fail(traceOf(req), 'bad_parameter', 'an HTTP/1.1 request must have a Host header'));
    }
    if (target.charCodeAt(0) === 47 /* '/' */) {
      const q = target.indexOf('?');
      const backslash = target.indexOf('\\');
      if (backslash !== -1 && (q === -1 || backslash < q)) return writeAnswer(res, core.notFound(traceOf(req), req.method ?? '', target));
      req.url = normaliseTarget(target);
    } else if (!/^https?:\/\//i.test(target)) {
      return writeAnswer(res, core.notFound(traceOf(req), req.method ?? '', target));
    }
    for (const listener of frameworks) listener.call(server, req, res);
  });
}
