/**
 * The TCP front (`gateway --framework tcp`): the seed report's "non-HTTP load
 * balancer". Callers speak the worker's own RPC protocol to it
 * (docs/rpc-protocol.md: 4-byte length + msgpack, hello/welcome, call/reply), and it
 * forwards each call to a worker exactly as the HTTP adapters do, with the
 * same records: t1 when the call's bytes reached the front, t5 when its reply
 * went to the socket. No HTTP: a result travels in the form each caller's
 * connection asked for (docs/rpc-protocol.md, "Results").
 *
 * Its callers are as untrusted as an HTTP gateway's: it bounds what one can
 * make it hold as the HTTP gateway does (calls in flight per connection and
 * in all, frames in progress by --max-uploads-bytes and --request-timeout-ms,
 * replies not taken by --send-timeout-ms), names its records only from what
 * it checked, and cancels at the worker the calls of a caller that left.
 */
import { lookup } from 'node:dns/promises';
import { spreadOf, type BalancePolicy } from '../rpc/balance.js';
import { type CallResult, type FirstAttempt, type RpcClient } from '../rpc/client.js';
import type { FleetSource } from '../rpc/fleet-sources.js';
import type { FleetLog } from './fleet-log.js';
import { startRpcServer, type Cancel, type CallOutcome } from '../rpc/server.js';
import type { CallMessage, ResultForm } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import { formatGatewayRecord, workerStampsOf, type FrameAt, type WorkerStamps } from '../trace/records.js';
import type { Logger } from '../log.js';
import { openRole } from '../role.js';
import { recordNameOf } from '../contract/endpoints.js';
import { ERRORS, isErrorCode } from '../contract/errors.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { requestId } from './request-log.js';

export interface TcpFrontOptions {
  host: string;
  port: number;
  /** For the log line and the records: where the calls go. */
  workers: string[];
  /** The RpcClient's policy, for the records. */
  balance?: BalancePolicy;
  log?: string;
  /** Callers' hello must carry it, as a worker's would. */
  secret?: string;
  sampleIntervalMs?: number;
  metricsPort?: number;
  metricsHost?: string;
  metricsToken?: string;
  /** Bounds, as the HTTP gateway's flags name them. */
  maxInflight: number;
  maxInflightPerConnection: number;
  sendTimeoutMs: number;
  /** A call frame begun must arrive whole within this. */
  requestTimeoutMs: number;
  /** Bytes of call frames in progress, all callers together. */
  maxUploadsBytes: number;
  /** Trace the front's sockets in the kernel (bpftrace) into the records: needs root and `log`. */
  kernelStamps?: boolean;
  /** The gateway's fleet log and worker source, if any: attached to the front's records, closed with it. */
  fleetLog?: FleetLog;
  source?: FleetSource | null;
  logger: Logger;
}

export interface RunningTcpFront {
  address: { host: string; port: number };
  url: string;
  rpc: RpcClient;
  metricsUrl: string | null;
  close(): Promise<void>;
}

/** What the front learned about one call on its way through: its record's stamps. */
interface Forwarded {
  /** The request id of its records: the caller's when it keeps to the gateway's rule, else the front's own. */
  id: string;
  t2: bigint | null;
  t4: bigint | null;
  /** Kernel stamps: where the worker's reply arrived. */
  at: FrameAt | null;
  worker: WorkerStamps | null;
  workerAddress: string | null;
  error: string | null;
  retry: FirstAttempt | null;
}

export async function startTcpFront(options: TcpFrontOptions, rpc: RpcClient): Promise<RunningTcpFront> {
  const { logger } = options;
  await lookup(options.host);
  let connections = () => 0;
  const kernel = options.kernelStamps === true;
  const role = await openRole({
    role: 'gateway',
    log: options.log,
    sampleFields: { framework: 'tcp' },
    sampleIntervalMs: options.sampleIntervalMs,
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    metricsToken: options.metricsToken,
    metrics: async () =>
      new (await import('../metrics/gateway-metrics.js')).GatewayMetrics('tcp', {
        inFlight: () => rpc.inFlight,
        httpConnections: () => connections(),
        rpcConnected: () => rpc.readyCount,
        rpcReconnects: () => rpc.reconnects,
      }),
    kernel: kernel ? { sends: false, dial: true } : undefined,
    logger,
  });
  const { sink, metrics } = role;
  options.fleetLog?.attach(sink, metrics as GatewayMetrics | null);
  const forwarded = new WeakMap<CallMessage, Forwarded>();
  const fleet = spreadOf(options.balance, () => rpc.fleet.size);

  const handle = (call: CallMessage, _form: ResultForm, cancel: Cancel): Promise<CallOutcome> =>
    new Promise((resolve) => {
      const f: Forwarded = { id: requestId(call.rid, null), t2: null, t4: null, at: null, worker: null, workerAddress: null, error: null, retry: null };
      forwarded.set(call, f);
      const sent = rpc.send(f.id, call.fn, call.args, null, (result) => resolve(settle(f, result)));
      // The caller left: the worker is told to stop, and this call answers `cancelled` (to nobody; its record says so).
      cancel.onCancel(() => rpc.cancel(sent));
    });

  const settle = (f: Forwarded, result: CallResult): CallOutcome => {
    f.t2 = result.t2;
    f.workerAddress = result.worker;
    f.retry = result.retry ?? null;
    if (!result.ok) {
      f.error = result.code;
      const t = now();
      return { err: { code: result.code, message: result.message }, t3_start: t, t3_end: t };
    }
    const { reply } = result;
    f.t4 = result.t4;
    f.at = result.at ?? null;
    f.worker = workerStampsOf(reply);
    f.error = reply.err?.code ?? null;
    // The reply's own stamps are the front's: the call forwarded (t2) and its reply decoded (t4).
    // A body goes to a caller that takes bodies as it came; to one that takes values it is decoded (rpc/result-form.ts).
    return { result: reply.result, body: reply.body, ctype: reply.ctype, err: reply.err, t3_start: result.t2, t3_end: result.t4 };
  };

  /** The record and metric of one call; `status` when it is not the one its error stands for. */
  const record = (call: CallMessage, outcome: CallOutcome, t1: bigint, t5: bigint, status?: number, why?: string, at?: FrameAt | null) => {
    if (!sink && !metrics) return;
    const f = forwarded.get(call);
    // A call refused unforwarded (overloaded, a duplicate id) has only its reply's error.
    const error = why ?? (f ? f.error : (outcome.err?.code ?? 'internal_error'));
    // The status an HTTP front would have answered, so that the analysis reads both alike.
    const shown = status ?? (error === null ? 200 : isErrorCode(error) ? ERRORS[error] : 502);
    const fn = recordNameOf(call.fn, call.args);
    const observed = { fn, error, t1, t2: f?.t2 ?? null, t4: f?.t4 ?? null, worker: f?.worker ?? null };
    (metrics as GatewayMetrics | null)?.observe(observed, shown, t5);
    sink?.write(
      formatGatewayRecord({
        id: f?.id ?? requestId(call.rid, null),
        framework: 'tcp',
        status: shown,
        workerAddress: f?.workerAddress ?? null,
        retry: f?.retry ?? null,
        ...observed,
        t5,
        ...fleet,
        // Calls arrive many at a time per connection, as at a worker: the call's frame offset finds its segment.
        links: kernel ? { front: at ?? null, rpc: f?.at ?? null } : undefined,
      }),
    );
  };

  const server = await startRpcServer({
    host: options.host,
    port: options.port,
    logger,
    secret: options.secret,
    handle,
    frameOffsets: kernel,
    limits: {
      maxInflight: options.maxInflight,
      maxInflightPerConnection: options.maxInflightPerConnection,
      readTimeoutMs: options.requestTimeoutMs,
      sendTimeoutMs: options.sendTimeoutMs,
      maxPartialBytes: options.maxUploadsBytes,
      flags: { maxInflight: '--max-inflight', maxInflightPerConnection: '--max-inflight-per-connection', maxPartialBytes: '--max-uploads-bytes' },
    },
    onReplySent: (call, outcome, t1, t5, at) => record(call, outcome, t1, t5, undefined, undefined, at),
    // Never taken by its caller: 499 when it left first, else the status the reply carried.
    onReplyDropped: (call, outcome, t1, at, why) => {
      const error = forwarded.get(call)?.error ?? outcome.err?.code ?? null;
      const sentStatus = error === null ? 200 : isErrorCode(error) ? ERRORS[error] : 502;
      record(call, outcome, t1, at, why === 'cancelled' ? ERRORS.cancelled : sentStatus, why);
    },
  });
  connections = () => server.connections;
  const { address, port, family } = server.address;
  const host = family === 'IPv6' ? `[${address}]` : address;
  const running = await role.serve({
    gauges: () => ({ inflight: rpc.inFlight, connections: server.connections, workers_active: rpc.fleet.counts().active }),
    announce: { framework: 'tcp', url: `tcp://${host}:${port}`, workers: options.workers, balance: fleet.balance },
    message: 'gateway listening',
    // Every connection the gateway dialled: workers that join later are traced too.
    watch: { serve: [{ port, mode: 'seg' }], dial: [], dialled: 'seg' },
    close: async () => {
      await server.close();
      options.source?.close();
      rpc.close();
    },
  });
  return {
    address: { host: address, port },
    url: `tcp://${host}:${port}`,
    metricsUrl: running.metricsUrl,
    rpc,
    close: () => running.close(),
  };
}

