import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { subscribe } from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import { now } from '../trace/clock.js';
import { formatGatewayRecord, type FrameAt, type WorkerStamps } from '../trace/records.js';
import { connOf } from '../kernel/conn.js';
import type { RecordSink } from '../trace/record-writer.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Spread } from '../rpc/balance.js';
import type { FirstAttempt } from '../rpc/client.js';
import { ERRORS } from '../contract/errors.js';
import type { Abandoned, Admission } from './admission.js';
import { CALL_HEADER } from '../contract/composition.js';
import { rawHeader } from './raw-headers.js';

/** What the gateway learns about one request on its way through. */
export class RequestTrace {
  fn: string | null = null;
  error: string | null = null;
  t2: bigint | null = null;
  t4: bigint | null = null;
  worker: WorkerStamps | null = null;
  workerAddress: string | null = null;
  /** The RPC call's handle (RpcClient.send), for cancel(); -1 before it is sent. */
  call = -1;
  /** Its record is written (an abandoned request's, before any 'finish'). */
  recorded = false;
  /** The x-faasbench-call header of a nested call (core.ts reads it), when the request had one. */
  callHeader: string | string[] | undefined = undefined;
  /** Its parent's id, once core.ts has read a valid header: written into the record. */
  parent: string | null = null;
  /** Kernel stamps: the connection the request came on, and where the call's reply arrived. */
  conn: string | null = null;
  rpcAt: FrameAt | null = null;
  /** The failed first attempt of a call retried on another worker. */
  retry: FirstAttempt | null = null;
  constructor(
    readonly id: string,
    readonly t1: bigint,
    /** The trace id of a W3C traceparent the request came with, or null. */
    readonly traceId: string | null,
  ) {}
}

const TRACE = Symbol('faasbench.trace');
type Traced = IncomingMessage & { [TRACE]?: RequestTrace };

const ID = /^[\w.:-]{1,128}$/;
const idPrefix = `g${randomBytes(4).toString('hex')}-`;
let idCounter = 0;

/** The caller's id when it sent a usable one, else the trace id of its traceparent, else one of ours. */
export function requestId(header: unknown, traceId: string | null): string {
  if (typeof header === 'string' && ID.test(header)) return header;
  return traceId ?? idPrefix + (++idCounter).toString(36);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const ZEROS = /^0+$/;

/**
 * The trace id of a W3C traceparent header (Trace Context, section 3.2), or
 * null when it is absent or invalid: version ff, an all-zero trace or parent
 * id, or anything after the flags in version 00 make it invalid; a later
 * version may append fields.
 */
export function traceIdOf(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[4] !== undefined) || ZEROS.test(m[2]!) || ZEROS.test(m[3]!)) return null;
  return m[2]!;
}

interface TracedServer {
  framework: string;
  sink: RecordSink | null;
  metrics: GatewayMetrics | null;
  fleet: Spread;
  admission: Admission | null;
  /** Kernel stamps: records say where each request and reply arrived. */
  links: boolean;
}
/** The servers of this process that are traced (one in a gateway; several in tests). */
const tracedServers = new Map<Server, TracedServer>();

interface HttpServerMessage {
  request: Traced;
  response: ServerResponse;
  server: Server;
}

/**
 * t1: node:http publishes 'http.server.request.start' just before it emits
 * 'request', before any framework code runs, so the frameworks' routing and
 * parsing land inside the measured stages and the stamp favours none of them.
 * 'http.server.response.finish' is published from node's own 'finish'
 * handler of the response: the record is written there, with t5 as
 * stampHandOver() below took it. Diagnostics channels cost one function call
 * per event: no listener or closure per request.
 */
subscribe('http.server.request.start', (message) => {
  const t1 = now();
  const { request, server } = message as HttpServerMessage;
  const traced = tracedServers.get(server);
  if (!traced) return;
  const raw = request.rawHeaders;
  const traceId = traceIdOf(rawHeader(raw, 'traceparent'));
  const trace = new RequestTrace(requestId(rawHeader(raw, 'x-request-id'), traceId), t1, traceId);
  trace.callHeader = rawHeader(raw, CALL_HEADER);
  request[TRACE] = trace;
  if (traced.links) trace.conn = connOf(request.socket);
});

subscribe('http.server.response.finish', (message) => {
  const finished = now();
  const { request, response, server } = message as HttpServerMessage;
  const traced = tracedServers.get(server);
  const abandoned = traced?.admission?.finished(response, request.socket) ?? null;
  const trace = request[TRACE];
  if (!trace || !traced || trace.recorded || (!traced.sink && !traced.metrics)) return;
  if (abandoned) trace.error = abandoned;
  record(traced, trace, response.statusCode, (response as Stamped)[HANDED_OVER] ?? finished);
});

function record(traced: TracedServer, trace: RequestTrace, status: number, t5: bigint): void {
  trace.recorded = true;
  traced.metrics?.observe(trace, status, t5);
  traced.sink?.write(
    formatGatewayRecord({
      id: trace.id,
      framework: traced.framework,
      fn: trace.fn,
      status,
      error: trace.error,
      t1: trace.t1,
      t2: trace.t2,
      t4: trace.t4,
      t5,
      worker: trace.worker,
      workerAddress: trace.workerAddress,
      parent: trace.parent,
      balance: traced.fleet.balance,
      workers: traced.fleet.workers,
      traceId: trace.traceId,
      retry: trace.retry,
      links: traced.links ? { front: trace.conn === null ? null : { conn: trace.conn, off: null }, rpc: trace.rpcAt } : undefined,
    }),
  );
}

/**
 * A request whose answer never reached its client (`why`): recorded now, t5
 * the moment that was known, with the status its head went with (499 when
 * it never went), and counted. Returns its trace, or null when it was not
 * traced or is recorded already.
 */
export function recordAbandoned(server: Server, res: ServerResponse, why: Abandoned): RequestTrace | null {
  const traced = tracedServers.get(server);
  const trace = (res.req as Traced | undefined)?.[TRACE];
  if (!traced || !trace || trace.recorded) return null;
  trace.error = why;
  record(traced, trace, res.headersSent ? res.statusCode : ERRORS.cancelled, now());
  return trace;
}

const HANDED_OVER = Symbol('faasbench.t5');
type Stamped = ServerResponse & { [HANDED_OVER]?: bigint };
let endWrapped = false;

/**
 * t5 is the moment the response was fully handed to the socket. Every
 * framework's reply path ends in ServerResponse.prototype.end(), and a
 * response that fits the socket's buffer is in the kernel when end() returns
 * (node uncorks and writes synchronously): stamp that moment. The 'finish'
 * event, which node emits from a later callback, lags it: on a busy machine
 * by hundreds of µs at the median (a caller on the other core had the whole
 * response before 'finish' ran), which would inflate `respond` and shrink
 * `caller link`. A response that did not all go out at once (a large image
 * on a full socket buffer) is stamped at 'finish', when its last byte did.
 */
function stampHandOver(): void {
  if (endWrapped) return;
  endWrapped = true;
  const end = ServerResponse.prototype.end;
  // Three named parameters, not a rest array: end() reads its arguments by type, so absent and undefined are alike.
  ServerResponse.prototype.end = function (this: Stamped, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    const result = (end as (c: unknown, e: unknown, cb: unknown) => ServerResponse).call(this, chunk, encoding, callback);
    if (this.writableFinished && this[HANDED_OVER] === undefined) this[HANDED_OVER] = now();
    return result;
  } as typeof end;
}

/** Stamps t1 and t5 of every request of `server`, writes its records to `sink` and counts it in `metrics`; `fleet` goes on every record, and with `links` where the request and its reply arrived. */
export function traceServer(
  server: Server,
  framework: string,
  sink: RecordSink | null,
  metrics: GatewayMetrics | null = null,
  fleet: Spread = { balance: 'round-robin', workers: 1 },
  admission: Admission | null = null,
  links = false,
): void {
  stampHandOver();
  tracedServers.set(server, { framework, sink, metrics, fleet, admission, links });
  server.once('close', () => tracedServers.delete(server));
}

export function traceOf(req: IncomingMessage): RequestTrace {
  const trace = (req as Traced)[TRACE];
  if (!trace) throw new Error('request was not traced: traceServer() must wrap the server');
  return trace;
}
