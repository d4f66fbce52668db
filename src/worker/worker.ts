import { join } from 'node:path';
import type { Logger } from '../log.js';
import { setTimeout as delay } from 'node:timers/promises';
import { startRpcServer, type CallOutcome, type RpcServer, type RpcServerOptions } from '../rpc/server.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { now } from '../trace/clock.js';
import type { RecordSink } from '../trace/record-writer.js';
import { openRole } from '../role.js';
import { formatWorkerRecord } from '../trace/records.js';
import type { CallMessage } from '../rpc/protocol.js';
import { Executor } from './executor.js';
import type { Isolation } from './instance.js';
import type { InstanceUse } from './instances.js';
import { defaultFunctionsDir, faultFunctionsDir, loadFunctions } from './registry.js';

export const DEFAULT_KEEP_WARM_MS = 600_000;
export const DEFAULT_MAX_INSTANCES = 10;
const RAN_IN = Symbol('faasbench.ranIn');
/** A call with where it ran, from its run to its record (the reply frame does not carry it). */
type RanCall = CallMessage & { [RAN_IN]?: InstanceUse | null };

export interface WorkerOptions {
  host: string;
  port: number;
  log?: string;
  functionsDir?: string;
  timeoutMs: number;
  poolMemoryMb: number;
  /** Where functions run: an instance thread (default), an instance process, or inline (the floor). */
  isolation?: Isolation | 'inline';
  /** An idle instance ends after this long without a call. */
  keepWarmMs?: number;
  /** Instances per function at most; calls beyond wait for one. */
  maxInstances?: number;
  /** Instances per function started ahead and kept. */
  minInstances?: number;
  secret?: string;
  /** Also load the misbehaving functions (functions/faults). */
  allowFaultFunctions?: boolean;
  helloTimeoutMs?: number;
  /**
   * Experiments only: every call takes this many times its time (a worker
   * gone slow, a grey failure). The wait is inside the function's stamps:
   * t3_end is taken after it, as on a slower machine.
   */
  experimentSlowdown?: number;
  /** Saturation samples into the records this often; 0: none. Only with `log`. */
  sampleIntervalMs?: number;
  /** Serve Prometheus metrics on this port (0: any free one); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  logger: Logger;
}

export interface RunningWorker {
  address: { host: string; port: number };
  functions: string[];
  /** The /metrics URL, when metrics are on. */
  metricsUrl: string | null;
  close(): Promise<void>;
}

/** The outcome after a wait of (factor − 1) times the function's time, its end stamped after it. */
async function slowed(outcome: CallOutcome, factor: number): Promise<CallOutcome> {
  const ms = (Number(outcome.t3_end - outcome.t3_start) / 1e6) * (factor - 1);
  await delay(ms);
  return { ...outcome, t3_end: now() };
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const slowdown = options.experimentSlowdown ?? 1;
  const dir = options.functionsDir ?? defaultFunctionsDir;
  const functions = await loadFunctions(dir);
  if (options.allowFaultFunctions) for (const [name, fn] of await loadFunctions(faultFunctionsDir)) functions.set(name, fn);
  let server: RpcServer | null = null;
  const executor = new Executor({
    functions,
    assetsDir: join(dir, 'assets'),
    timeoutMs: options.timeoutMs,
    poolMemoryMb: options.poolMemoryMb,
    isolation: options.isolation ?? 'thread',
    instances: {
      keepWarmMs: options.keepWarmMs ?? DEFAULT_KEEP_WARM_MS,
      maxInstances: options.maxInstances ?? DEFAULT_MAX_INSTANCES,
      minInstances: options.minInstances ?? 0,
    },
    onInterrupted: () => server?.resumeInterrupted(),
  });
  await executor.prewarm();
  let connections = () => 0;
  const role = await openRole({
    role: 'worker',
    log: options.log,
    sampleIntervalMs: options.sampleIntervalMs,
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    metrics: async () => new (await import('../metrics/worker-metrics.js')).WorkerMetrics(() => ({ ...executor.load }), () => connections()),
    logger: options.logger,
  });
  server = await startRpcServer({
    host: options.host,
    port: options.port,
    logger: options.logger,
    secret: options.secret,
    helloTimeoutMs: options.helloTimeoutMs,
    functions: [...functions.keys()],
    handle: (call, form) =>
      executor.run(call.fn, call.args, form).then((e) => {
        // A property, not a WeakMap entry: the scavenger keeps those alive one round more.
        (call as RanCall)[RAN_IN] = e.instance;
        return slowdown > 1 ? slowed(e.outcome, slowdown) : e.outcome;
      }),
    interrupted: (call) => {
      const e = executor.takeInterrupted();
      if (e) (call as RanCall)[RAN_IN] = e.instance;
      return e?.outcome ?? null;
    },
    settlesHere: () => executor.settlesHere,
    turn: (next) => executor.turn(next),
    onReplySent: recordReplies(role.sink, role.metrics),
  });
  const rpc = server;
  connections = () => rpc.connections;
  const running = await role.serve({
    gauges: () => ({ ...executor.load }),
    announce: { address: `${rpc.address.address}:${rpc.address.port}`, functions: [...functions.keys()], ...(slowdown > 1 ? { experimentSlowdown: slowdown } : {}) },
    message: 'worker listening',
    close: async () => {
      await rpc.close();
      await executor.close();
    },
  });
  return {
    address: { host: rpc.address.address, port: rpc.address.port },
    functions: [...functions.keys()],
    metricsUrl: running.metricsUrl,
    close: () => running.close(),
  };
}

/** After each reply: the call's metrics, and its record (with the instance it ran in). */
function recordReplies(sink: RecordSink | null, metrics: WorkerMetrics | null): RpcServerOptions['onReplySent'] {
  return (call, outcome, t3_recv, t3_send) => {
    const error = outcome.err?.code ?? null;
    const instance = (call as RanCall)[RAN_IN] ?? null;
    metrics?.observe(call.fn, error, instance, t3_recv, outcome.t3_start, outcome.t3_end, t3_send);
    sink?.write(
      formatWorkerRecord({
        id: call.rid,
        fn: call.fn,
        error,
        t3_recv,
        t3_start: outcome.t3_start,
        t3_end: outcome.t3_end,
        t3_send,
        instance,
        traceId: call.tp,
      }),
    );
  };
}
