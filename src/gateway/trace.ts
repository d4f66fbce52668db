import type { IncomingMessage, Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { now } from '../trace/clock.js';
import { formatGatewayRecord, type WorkerStamps } from '../trace/records.js';
import type { RecordSink } from '../trace/record-writer.js';

/** What the gateway learns about one request on its way through. */
export class RequestTrace {
  fn: string | null = null;
  error: string | null = null;
  t2: bigint | null = null;
  t4: bigint | null = null;
  worker: WorkerStamps | null = null;
  workerAddress: string | null = null;
  constructor(
    readonly id: string,
    readonly t1: bigint,
  ) {}
}

const TRACE = Symbol('faasbench.trace');
type Traced = IncomingMessage & { [TRACE]?: RequestTrace };

const ID = /^[\w.:-]{1,128}$/;
const idPrefix = `g${randomBytes(4).toString('hex')}-`;
let idCounter = 0;

/** The caller's id when it sent a usable one, else one of ours. */
function requestId(header: string | string[] | undefined): string {
  if (typeof header === 'string' && ID.test(header)) return header;
  return idPrefix + (++idCounter).toString(36);
}

/**
 * Stamps t1 and t5 at the node:http layer that all five frameworks sit on:
 * t1 in a 'request' listener placed before the framework's own, t5 at the
 * response's 'finish'. The same code for every framework, so the stamps do not
 * favour one; and below the frameworks, so their routing and parsing land in
 * the measured stages instead of before t1.
 */
export function traceServer(server: Server, framework: string, sink: RecordSink | null): void {
  server.prependListener('request', (req: Traced, res) => {
    const trace = new RequestTrace(requestId(req.headers['x-request-id']), now());
    req[TRACE] = trace;
    if (sink === null) return;
    res.once('finish', () => {
      const t5 = now();
      sink.write(
        formatGatewayRecord({
          id: trace.id,
          framework,
          fn: trace.fn,
          status: res.statusCode,
          error: trace.error,
          t1: trace.t1,
          t2: trace.t2,
          t4: trace.t4,
          t5,
          worker: trace.worker,
          workerAddress: trace.workerAddress,
        }),
      );
    });
  });
}

export function traceOf(req: IncomingMessage): RequestTrace {
  const trace = (req as Traced)[TRACE];
  if (!trace) throw new Error('request was not traced: traceServer() must wrap the server');
  return trace;
}
