import { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { spreadOf, type BalancePolicy } from '../rpc/balance.js';
import { RpcClient } from '../rpc/client.js';
import type { EjectionOptions, HealthOptions } from '../rpc/fleet.js';
import { FleetSource } from '../rpc/fleet-sources.js';
import { FleetLog } from './fleet-log.js';
import { openRole } from '../role.js';
import { ADAPTERS, type Framework } from './adapters/index.js';
import { narrowAcceptEncoding, type Compression } from './compression.js';
import { startTcpFront } from './tcp-front.js';
import { GatewayCore } from './core.js';
import type { ErrorCode } from '../contract/errors.js';
import { normaliseTarget } from './normalise.js';
import { rawHeader } from './raw-headers.js';
import { rawErrorResponse, writeAnswer } from './reply.js';
import { recordAbandoned, traceOf, traceServer } from './request-log.js';
import { Admission } from './admission.js';
import { UploadBudget } from './upload-budget.js';

export interface GatewayOptions {
  /** An HTTP framework, or `tcp`: the RPC protocol itself as the front (tcp-front.ts). */
  framework: Framework | 'tcp';
  /** Response compression, each framework's own way; default none. */
  compression?: Compression;
  host: string;
  port: number;
  /** Workers always in the set (may be empty with `workersFile`). */
  workers: string[];
  /** One HOST:PORT a line, watched and re-read when it changes: workers added and drained while serving. */
  workersFile?: string;
  /** Worker host names are resolved this often, each to every address it has; 0 or unset: connected to as given. */
  resolveIntervalMs?: number;
  /** Pings over the worker links (rpc/fleet.ts). */
  health?: HealthOptions;
  /** Outlier ejection (rpc/fleet.ts). */
  ejection?: EjectionOptions;
  /** A call whose worker was lost before it replied is sent once more, to another worker. */
  retryLost?: boolean;
  log?: string;
  timeoutMs: number;
  maxBodyBytes: number;
  /** Bytes of request bodies in progress across the gateway (503 uploads_full beyond). */
  maxUploadsBytes: number;
  /** node's requestTimeout and headersTimeout: the whole request, and its headers, must arrive within these. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Requests (calls, at the TCP front) in flight at once, in all and on one client connection; 503 `overloaded` beyond. */
  maxInflight?: number;
  maxInflightPerConnection?: number;
  /** A client that takes none of its answer's bytes for this long is disconnected. */
  sendTimeoutMs?: number;
  /** A token /metrics requires (Authorization: Bearer); none when unset. */
  metricsToken?: string;
  secret?: string;
  connectionsPerWorker?: number;
  /** How calls are spread over the workers' connections; default round-robin. */
  balance?: BalancePolicy;
  /** Saturation samples into the records this often; 0: none. Only with `log`. */
  sampleIntervalMs?: number;
  /** Serve Prometheus metrics on this port (0: any free one); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  /** Server-Timing on answers the worker replied to; on unless false. */
  serverTiming?: boolean;
  /** Trace the gateway's sockets in the kernel (bpftrace) into the records: needs root and `log`. */
  kernelStamps?: boolean;
  /** `forward` (default): answers' bytes from the worker, as they are; `decode`: msgpack values, written as JSON here. */
  results?: 'forward' | 'decode';
  logger: Logger;
}

/** What one client may make the gateway hold, unless told (docs/commands.md, "Limits"). */
export const GATEWAY_LIMITS = { maxInflight: 1024, maxInflightPerConnection: 16, sendTimeoutMs: 30_000 };

export interface RunningGateway {
  address: { host: string; port: number };
  url: string;
  /** The /metrics URL, when metrics are on. */
  metricsUrl: string | null;
  rpc: RpcClient;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  // The framework and the listening address first: both take a while, and a
  // worker's connection error must not be logged before the gateway's own
  // start-up failure (an unknown host) that the user must see.
  const compression = options.compression ?? 'none';
  // A compressing gateway is a front of its own in the records and the report: fastify+gzip beside fastify.
  const label = options.framework === 'tcp' || compression === 'none' ? options.framework : `${options.framework}+${compression}`;
  const fleetLog = new FleetLog(label, logger);
  const dynamic = options.workersFile !== undefined || (options.resolveIntervalMs ?? 0) > 0;
  // The workers' link, with its source of workers started (a first read of the file, the names resolved).
  const rpcClient = async () => {
    const rpc = new RpcClient({
      // A dynamic set comes from the source below, names resolved.
      workers: dynamic ? [] : options.workers,
      dynamic,
      logger,
      timeoutMs: options.timeoutMs,
      secret: options.secret,
      connectionsPerWorker: options.connectionsPerWorker,
      balance: options.balance,
      frameOffsets: options.kernelStamps,
      results: options.results === 'decode' ? 'value' : 'body',
      health: options.health,
      ejection: options.ejection,
      retryLost: options.retryLost,
      onFleetEvent: fleetLog.onEvent,
    });
    const source = dynamic
      ? new FleetSource({ workers: options.workers, workersFile: options.workersFile, resolveIntervalMs: options.resolveIntervalMs ?? 0, apply: (a) => rpc.setWorkers(a), logger })
      : null;
    try {
      await source?.start();
    } catch (err) {
      rpc.close();
      throw err;
    }
    return { rpc, source };
  };
  if (options.framework === 'tcp') {
    const { rpc, source } = await rpcClient();
    return startTcpFront(
      {
        ...options,
        maxInflight: options.maxInflight ?? GATEWAY_LIMITS.maxInflight,
        maxInflightPerConnection: options.maxInflightPerConnection ?? GATEWAY_LIMITS.maxInflightPerConnection,
        sendTimeoutMs: options.sendTimeoutMs ?? GATEWAY_LIMITS.sendTimeoutMs,
        fleetLog,
        source,
      },
      rpc,
    );
  }
  const createServer = await ADAPTERS[options.framework]();
  await lookup(options.host);
  const { rpc, source } = await rpcClient();
  const core = new GatewayCore({ rpc, maxBodyBytes: options.maxBodyBytes, serverTiming: options.serverTiming, compression });
  const server = await createServer(core);
  const admission = new Admission(
    {
      maxInflight: options.maxInflight ?? GATEWAY_LIMITS.maxInflight,
      maxInflightPerConnection: options.maxInflightPerConnection ?? GATEWAY_LIMITS.maxInflightPerConnection,
      sendTimeoutMs: options.sendTimeoutMs ?? GATEWAY_LIMITS.sendTimeoutMs,
    },
    (res, why) => {
      // Recorded and counted now; the worker is told to stop what nobody waits for.
      const trace = recordAbandoned(server, res, why);
      if (trace && trace.t4 === null) rpc.cancel(trace.call);
    },
  );
  gateFrameworks(server, core, new UploadBudget(options.maxUploadsBytes, options.maxBodyBytes), admission);
  const sockets = trackSockets(server, admission);
  const role = await openRole({
    role: 'gateway',
    log: options.log,
    sampleFields: { framework: label },
    sampleIntervalMs: options.sampleIntervalMs,
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    metricsToken: options.metricsToken,
    metrics: async () =>
      new (await import('../metrics/gateway-metrics.js')).GatewayMetrics(label, {
        inFlight: () => rpc.inFlight,
        httpConnections: () => sockets.size,
        rpcConnected: () => rpc.readyCount,
        rpcReconnects: () => rpc.reconnects,
        workers: () => rpc.fleet.counts(),
        busySeconds: () => rpc.busySeconds,
        retries: () => rpc.retries,
      }),
    kernel: options.kernelStamps ? { sends: true, dial: true } : undefined,
    logger,
  });
  // t1 comes from node:http's channel, before the gate and every framework.
  fleetLog.attach(role.sink, role.metrics);
  traceServer(server, label, role.sink, role.metrics, spreadOf(options.balance, () => rpc.fleet.size), admission, options.kernelStamps === true);
  applyConnectionPolicy(server, options);
  await listen(server, options.port, options.host);
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const running = await role.serve({
    gauges: () => ({ inflight: rpc.inFlight, connections: sockets.size, workers_active: rpc.fleet.counts().active }),
    announce: {
      framework: options.framework,
      compression,
      url,
      workers: options.workers,
      workersFile: options.workersFile ?? null,
      balance: options.balance ?? 'round-robin',
    },
    message: 'gateway listening',
    // Requests arrive one at a time per connection (HTTP/1.1); replies many at a time per worker connection,
    // every connection the gateway dialled: workers that join later are traced too.
    watch: { serve: [{ port: address.port, mode: 'msg', sends: true }], dial: [], dialled: 'seg' },
    close: async () => {
      admission.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      source?.close();
      rpc.close();
    },
  });
  return {
    address: { host: address.address, port: address.port },
    url,
    metricsUrl: running.metricsUrl,
    rpc,
    close: () => running.close(),
  };
}

/** The sockets open on `server`, kept up to date: for the metrics, and to close them at the end. */
function trackSockets(server: Server, admission: Admission): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    admission.connection(s);
    s.once('close', () => sockets.delete(s));
  });
  return sockets;
}

/**
 * The same connection policy for every framework: connections kept open for
 * a whole run, slow senders cut off, and requests node's parser refuses
 * answered alike.
 */
function applyConnectionPolicy(server: Server, options: Pick<GatewayOptions, 'requestTimeoutMs' | 'headersTimeoutMs'>): void {
  // The caller keeps its connections open for a whole run.
  server.keepAliveTimeout = 65_000;
  // A slow or stalled sender is cut off (408 from node) long before node's
  // 300 s default; the check runs every second instead of every 30 s.
  server.requestTimeout = options.requestTimeoutMs;
  server.headersTimeout = options.headersTimeoutMs;
  // Read when the server starts listening (node's typings omit the property).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(1000, options.headersTimeoutMs);
  answerClientErrors(server);
}

/**
 * Requests node's parser rejects before any framework sees them (header
 * overflow, malformed request line) get one JSON error for all frameworks:
 * fastify's own handler is replaced so that it answers like the rest.
 */
function answerClientErrors(server: Server): void {
  server.removeAllListeners('clientError');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const [code, message] = clientErrorOf(err);
    const answer = () => socket.end(rawErrorResponse(code, message));
    // A whole valid request before the bad one on this connection (pipelining)
    // is still being answered: its answer goes first, or the client would
    // take the error for it. (If that request is itself the bad one, its body
    // will never complete: answer now.)
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inProgress && !inProgress.writableFinished && inProgress.req.complete) {
      let answered = false;
      const once = () => !answered && (answered = true) && answer();
      inProgress.once('finish', once);
      inProgress.once('close', once);
    } else answer();
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * One gate in front of the framework's own request listener, for what the
 * frameworks read differently or cannot answer in JSON: the path is
 * normalised (normalise.ts); an HTTP/1.1 request without Host, which node
 * would refuse with a bare 400 before any framework saw it, gets the JSON
 * 400; a target that is neither a path nor an absolute URL (`OPTIONS *`), or
 * whose path holds a backslash, is no route (hono alone would answer a bare
 * 400). A malformed Host is a 400 (RFC 9112 3.2; hono alone refused it, with a
 * bare 400); an absolute-form target (`GET http://h/empty`) is read as its
 * path, its authority replacing Host (RFC 9112 3.2.2); a fragment, which no
 * client sends, is dropped as most frameworks did. Everything else goes to
 * the framework untouched.
 */
function gateFrameworks(server: Server, core: GatewayCore, uploads: UploadBudget, admission: Admission): void {
  (server as Server & { requireHostHeader: boolean }).requireHostHeader = false;
  // A client sends the same Host on every request: the last valid one needs no second check.
  let lastValidHost: string | undefined;
  const frameworks = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let target = req.url ?? '';
    const host = rawHeader(req.rawHeaders, 'host', true);
    if (host === undefined ? req.httpVersion === '1.1' : host !== lastValidHost && !validAuthority(host)) {
      const why = host === undefined ? 'an HTTP/1.1 request must have a Host header' : `malformed Host header ${JSON.stringify(host.slice(0, 100))}`;
      return writeAnswer(res, core.fail(traceOf(req), 'bad_parameter', why));
    }
    if (host !== undefined) lastValidHost = host;
    const absolute = target.charCodeAt(0) === 47 /* '/' */ ? null : /^https?:\/\//i.exec(target);
    if (absolute) {
      const start = absolute[0].length;
      const end = target.slice(start).search(/[/?#]/);
      const authority = end === -1 ? target.slice(start) : target.slice(start, start + end);
      if (!validAuthority(authority)) {
        return writeAnswer(res, core.fail(traceOf(req), 'bad_parameter', `malformed authority in the request target ${JSON.stringify(target.slice(0, 100))}`));
      }
      req.headers.host = authority;
      const rest = end === -1 ? '' : target.slice(start + end);
      target = rest.startsWith('/') ? rest : `/${rest}`;
    }
    const hash = target.indexOf('#');
    if (hash !== -1) target = target.slice(0, hash);
    req.url = target;
    if (target.charCodeAt(0) === 47 /* '/' */) {
      const q = target.indexOf('?');
      const backslash = target.indexOf('\\');
      if (backslash !== -1 && (q === -1 || backslash < q)) return writeAnswer(res, core.notFound(traceOf(req), req.method ?? '', target));
      req.url = normaliseTarget(target);
    } else {
      return writeAnswer(res, core.notFound(traceOf(req), req.method ?? '', target));
    }
    if (core.compression !== 'none') narrowAcceptEncoding(req, core.compression);
    const overloaded = admission.admit(req, res);
    if (overloaded !== null) return writeAnswer(res, core.fail(traceOf(req), 'overloaded', overloaded));
    if (!uploads.admit(req, res)) {
      // Closed after the answer: keeping the connection would make node read
      // and discard the whole body, CPU spent at the sender's pace.
      res.setHeader('connection', 'close');
      const message = `uploads in progress already hold the gateway's limit of ${uploads.limitBytes} bytes; try again later`;
      return writeAnswer(res, core.fail(traceOf(req), 'uploads_full', message));
    }
    for (const listener of frameworks) listener.call(server, req, res);
  });
}

/** host[:port] as RFC 3986 allows it (a name, IPv4 or a bracketed IPv6 literal), port at most 65535. */
function validAuthority(authority: string): boolean {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{0,5}))?$/.exec(authority);
  return m !== null && !(Number(m[1] ?? 0) > 65535);
}

/** The answer to a request node's parser refused before any framework saw it. */
function clientErrorOf(err: NodeJS.ErrnoException): [ErrorCode, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return ['header_too_large', 'the request line or headers are too large'];
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return ['request_timeout', 'the request headers did not arrive in time'];
  return ['bad_parameter', `malformed HTTP request (${err.code ?? 'parse error'})`];
}
