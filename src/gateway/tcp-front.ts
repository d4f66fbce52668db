/**
 * The TCP front (`gateway --framework tcp`): the seed report's "non-HTTP load
 * balancer". Callers speak the worker's own RPC protocol to it
 * (docs/rpc-protocol.md: 4-byte length + msgpack, hello/welcome, call/reply), and it
 * forwards each call to a worker exactly as the HTTP adapters do, with the
 * same records: t1 when the call's bytes reached the front, t5 when its reply
 * went to the socket. No HTTP: a result travels in the form each caller's
 * connection asked for (docs/rpc-protocol.md, "Results").
 */
import { lookup } from 'node:dns/promises';
import { spreadOf, type BalancePolicy } from '../rpc/balance.js';
import { splitAddress, type FirstAttempt, type RpcClient } from '../rpc/client.js';
import type { FleetSource } from '../rpc/fleet-sources.js';
import type { FleetLog } from './fleet-log.js';
import { startRpcServer, type CallOutcome } from '../rpc/server.js';
import type { CallMessage } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import { formatGatewayRecord, workerStampsOf, type FrameAt, type WorkerStamps } from '../trace/records.js';
import type { Logger } from '../log.js';
import { openRole } from '../role.js';
import { recordNameOf } from '../contract/endpoints.js';
import { ERRORS, isErrorCode } from '../contract/errors.js';

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
  /** The TCP front serves no metrics. */
  metricsUrl: null;
  close(): Promise<void>;
}

/** What the front learned about one call on its way through: its record's stamps. */
interface Forwarded {
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
  const kernel = options.kernelStamps === true;
  const role = await openRole({
    role: 'gateway',
    log: options.log,
    sampleFields: { framework: 'tcp' },
    sampleIntervalMs: options.sampleIntervalMs,
    kernel: kernel ? { sends: false, dial: true } : undefined,
    logger,
  });
  const { sink } = role;
  options.fleetLog?.attach(sink, null);
  const forwarded = new WeakMap<CallMessage, Forwarded>();
  const fleet = spreadOf(options.balance, () => rpc.fleet.size);

  const handle = async (call: CallMessage): Promise<CallOutcome> => {
    const result = await rpc.call(call.rid, call.fn, call.args);
    const f: Forwarded = { t2: result.t2, t4: null, at: null, worker: null, workerAddress: result.worker, error: null, retry: result.retry ?? null };
    forwarded.set(call, f);
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

  const server = await startRpcServer({
    host: options.host,
    port: options.port,
    logger,
    secret: options.secret,
    handle,
    frameOffsets: kernel,
    onReplySent: (call, _outcome, t1, t5, at) => {
      if (!sink) return;
      const f = forwarded.get(call);
      // The status an HTTP front would have answered, so that the analysis reads both alike.
      const error = f ? f.error : 'internal_error';
      const status = error === null ? 200 : isErrorCode(error) ? ERRORS[error] : 502;
      sink.write(
        formatGatewayRecord({
          id: call.rid,
          framework: 'tcp',
          fn: recordNameOf(call.fn, call.args),
          status,
          error,
          t1,
          t2: f?.t2 ?? null,
          t4: f?.t4 ?? null,
          t5,
          worker: f?.worker ?? null,
          workerAddress: f?.workerAddress ?? null,
          retry: f?.retry ?? null,
          ...fleet,
          // Calls arrive many at a time per connection, as at a worker: the call's frame offset finds its segment.
          links: kernel ? { front: at ?? null, rpc: f?.at ?? null } : undefined,
        }),
      );
    },
  });
  const { address, port, family } = server.address;
  const host = family === 'IPv6' ? `[${address}]` : address;
  const running = await role.serve({
    gauges: () => ({ inflight: rpc.inFlight, workers_active: rpc.fleet.counts().active }),
    announce: { framework: 'tcp', url: `tcp://${host}:${port}`, workers: options.workers, balance: fleet.balance },
    message: 'gateway listening',
    watch: { serve: [{ port, mode: 'seg' }], dial: workerPorts(options.workers) },
    close: async () => {
      await server.close();
      options.source?.close();
      rpc.close();
    },
  });
  return {
    address: { host: address, port },
    url: `tcp://${host}:${port}`,
    metricsUrl: null,
    rpc,
    close: () => running.close(),
  };
}

/** A gateway's worker connections, watched by their remote port: replies arrive many at a time on each. */
export function workerPorts(workers: readonly string[]): { port: number; mode: 'seg' }[] {
  return [...new Set(workers.map((w) => splitAddress(w).port))].map((port) => ({ port, mode: 'seg' }));
}
