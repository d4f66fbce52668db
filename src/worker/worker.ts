import { join } from 'node:path';
import type { Logger } from '../log.js';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_REPLY_BYTES_PER_CONNECTION, startRpcServer, type CallOutcome, type RpcServer } from '../rpc/server.js';
import { ReplyErrorCode } from '../rpc/protocol.js';
import type { Cancel } from '../rpc/cancel.js';
import { openRole } from '../role.js';
import { formatWorkerRecord, type FrameAt } from '../trace/records.js';
import { now } from '../trace/clock.js';
import type { CallMessage, ResultForm } from '../rpc/protocol.js';
import { ChildTracker } from './children.js';
import { DEFAULT_MAX_CALL_DEPTH, DEFAULT_MAX_NESTED_CALLS, refuseNested, type CallMode } from '../contract/composition.js';
import { UsageError } from '../usage-error.js';
import { loadWorkflows, WorkflowError, type Workflow } from '../workflow/definition.js';
import type { BootAhead } from '../workflow/engine.js';
import { Executor, type Executed } from './executor.js';
import type { Isolation } from './instance.js';
import type { InstanceUse } from './instances.js';
import { defaultFunctionsDir, faultFunctionsDir, loadFunctions, type LoadedFunction } from './registry.js';
import { callsOf, Composer, type CallOrigin, type Transport } from './compose/composer.js';
import { coordinate } from './compose/coordinator.js';
import { HttpTransport } from './compose/http.js';
import { LocalTransport } from './compose/local.js';
import { RpcTransport } from './compose/rpc.js';

export const DEFAULT_KEEP_WARM_MS = 600_000;
export const DEFAULT_MAX_INSTANCES = 10;
export const DEFAULT_MAX_INSTANCES_TOTAL = 64;
/** What one client may make the worker hold (docs/commands.md, "Limits"). */
export const WORKER_LIMITS = {
  maxInflight: 4096,
  maxInflightPerConnection: 1024,
  readTimeoutMs: 30_000,
  sendTimeoutMs: 30_000,
  maxReplyBytesPerConnection: DEFAULT_REPLY_BYTES_PER_CONNECTION,
};
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
  /** Instances of all functions together at most. */
  maxInstancesTotal?: number;
  /** Calls in flight, in all and per connection; read and send timeouts. Default WORKER_LIMITS. */
  limits?: Partial<typeof WORKER_LIMITS>;
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
  /** Workflow definitions served like functions (docs/composition.md, "Workflows"). */
  workflowsDir?: string;
  /** How nested calls travel (ctx.call, workflow steps): inside this worker, over RPC, or through a gateway. */
  callMode?: CallMode;
  /** rpc mode: the workers nested calls go to (default: this worker's own address). */
  callWorkers?: string[];
  /** http mode: the gateway nested calls go through. */
  callGateway?: string;
  /** Who runs a workflow: the worker's engine, or a coordinator function. */
  coordinator?: 'worker' | 'function';
  /** The worker engine's boot-ahead policy (seed 004's scheduler). */
  bootAhead?: BootAhead;
  maxCallDepth?: number;
  /** Nested calls this worker may have in flight; more are refused (too_many_calls). */
  maxNestedCalls?: number;
  /** Saturation samples into the records this often; 0: none. Only with `log`. */
  sampleIntervalMs?: number;
  /** Serve Prometheus metrics on this port (0: any free one); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  metricsToken?: string;
  /** Trace the worker's sockets in the kernel (bpftrace) into the records: needs root and `log`. */
  kernelStamps?: boolean;
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
  const isolation = options.isolation ?? 'thread';
  const loading = { isolation, timeoutMs: options.timeoutMs, memoryMb: options.poolMemoryMb };
  const functions = await loadFunctions(dir, loading);
  if (options.allowFaultFunctions) {
    for (const [name, fn] of await loadFunctions(faultFunctionsDir, loading)) functions.set(name, fn);
  }
  const limits = { ...WORKER_LIMITS, ...options.limits };
  const maxTotal = options.maxInstancesTotal ?? DEFAULT_MAX_INSTANCES_TOTAL;
  const minInstances = options.minInstances ?? 0;
  if (isolation !== 'inline' && minInstances * functions.size > maxTotal) {
    throw new UsageError(
      `--min-instances ${minInstances} for ${functions.size} functions needs ${minInstances * functions.size} instances, more than --max-instances-total ${maxTotal}`,
    );
  }
  // Inline, functions run on this thread: what they spawn dies with the calls that were running then.
  const children = isolation === 'inline' ? new ChildTracker('kill').hook().listen() : null;
  const workflows = options.workflowsDir ? await loadWorkflowsOrExplain(options.workflowsDir) : new Map<string, Workflow>();
  for (const name of workflows.keys()) {
    if (functions.has(name)) throw new UsageError(`workflow ${name} has the name of a function: rename one of them`);
  }
  const coordinator = options.coordinator ?? 'worker';
  if (coordinator === 'function') {
    // Each workflow is a function of its own (its own instances), running the coordinator module.
    const url = new URL('../workflow/coordinator-function.js', import.meta.url).href;
    const fn = ((await import(url)) as { default: LoadedFunction['fn'] }).default;
    for (const name of workflows.keys()) functions.set(name, { name, url, fn });
  }
  let server: RpcServer | null = null;
  let composer: Composer | null = null;
  let local: LocalTransport<Executed> | null = null;
  const executor = new Executor({
    functions,
    assetsDir: join(dir, 'assets'),
    timeoutMs: options.timeoutMs,
    poolMemoryMb: options.poolMemoryMb,
    isolation,
    instances: {
      keepWarmMs: options.keepWarmMs ?? DEFAULT_KEEP_WARM_MS,
      maxInstances: options.maxInstances ?? DEFAULT_MAX_INSTANCES,
      maxTotal,
      minInstances: options.minInstances ?? 0,
    },
    onInterrupted: () => {
      // A nested call inside this worker first (its frames are gone too), then the RPC dispatch.
      local?.resumeInterrupted();
      server?.resumeInterrupted();
    },
    nested: { call: (...a) => composer!.call(...a) },
  });
  const isWorkflow = (name: string) => workflows.has(name);
  let lastWasWorkflow = false;
  /**
   * The worker's one path of every call, from the gateway or nested: a workflow, or a function.
   * `form`: how the result travels; a nested call's is consumed by its parent as a value.
   */
  const dispatch = (origin: CallOrigin, args: Record<string, unknown>, form: ResultForm = 'value', cancel?: Cancel): Promise<Executed> => {
    const wf = workflows.get(origin.fn);
    lastWasWorkflow = wf !== undefined;
    if (origin.nest) {
      // The callee's own check: the caller may be another worker with other limits.
      const refused = refuseNested(origin.fn, origin.nest, { maxDepth: options.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH, isWorkflow });
      if (refused) return Promise.resolve(refusedCall(refused));
    }
    if (!wf) return executor.run(origin.fn, args, form, origin, cancel);
    if (coordinator === 'function') return executor.run(origin.fn, { workflow: wf, input: args }, form, origin, cancel);
    const budget = origin.nest?.budgetMs;
    const limitMs = budget === undefined ? options.timeoutMs : Math.max(1, Math.min(options.timeoutMs, Math.floor(budget)));
    const boot = (fn: string) => executor.bootAhead(fn);
    return coordinate({ composer: composer!, bootAhead: options.bootAhead ?? 'none', boot }, origin, wf, args, limitMs).then((outcome) => ({
      outcome,
      instance: { instance: `${process.pid}-${wf.name}-coordinator`, cold: null },
    }));
  };
  await executor.prewarm();
  let connections = () => 0;
  const role = await openRole({
    role: 'worker',
    log: options.log,
    sampleIntervalMs: options.sampleIntervalMs,
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost,
    metricsToken: options.metricsToken,
    metrics: async () =>
      new (await import('../metrics/worker-metrics.js')).WorkerMetrics(() => ({ ...executor.load }), () => connections(), [...functions.keys(), ...workflows.keys()]),
    kernel: options.kernelStamps ? { sends: false, dial: false } : undefined,
    logger: options.logger,
  });
  const { sink, metrics } = role;
  /** The record (and metrics) of a call, from the gateway or nested; `error`, for a reply never taken: why. */
  const recordCall = (
    origin: CallOrigin,
    e: Executed['outcome'],
    instance: InstanceUse | null,
    t3_recv: bigint,
    t3_send: bigint,
    at?: FrameAt | null,
    error: string | null = e.err?.code ?? null,
  ) => {
    metrics?.observe(origin.fn, error, instance, t3_recv, e.t3_start, e.t3_end, t3_send);
    sink?.write(
      formatWorkerRecord({
        id: origin.rid,
        fn: origin.fn,
        error,
        t3_recv,
        t3_start: e.t3_start,
        t3_end: e.t3_end,
        t3_send,
        instance,
        traceId: origin.tp,
        // Where the call arrived (connection, frame offset): the kernel join's key.
        at,
        nesting: origin.nest ? { parent: origin.nest.parent, depth: origin.nest.depth } : null,
        calls: callsOf(origin),
      }),
    );
  };
  let rpcAddress = '';
  const transport: Transport = (() => {
    switch (options.callMode ?? 'local') {
      case 'rpc':
        return new RpcTransport({ workers: () => options.callWorkers ?? [rpcAddress], logger: options.logger, timeoutMs: options.timeoutMs + 5000, secret: options.secret });
      case 'http':
        if (!options.callGateway) throw new UsageError('--call-mode http needs --call-gateway URL: the gateway nested calls go through');
        return new HttpTransport(options.callGateway);
      case 'local':
        return (local = new LocalTransport<Executed>({
          // The parent consumes a nested call's result as a value, never as an answer's bytes.
          run: (origin, args) => dispatch(origin, args, 'value'),
          turn: (next) => executor.turn(next),
          record: (origin, e, t3_recv, t3_send) => recordCall(origin, e.outcome, e.instance, t3_recv, t3_send),
          takeInterrupted: () => executor.takeInterrupted(),
        }));
    }
  })();
  composer = new Composer({
    transport,
    maxDepth: options.maxCallDepth ?? DEFAULT_MAX_CALL_DEPTH,
    maxNestedCalls: options.maxNestedCalls ?? DEFAULT_MAX_NESTED_CALLS,
    isWorkflow,
  });
  const served = [...functions.keys(), ...(coordinator === 'worker' ? workflows.keys() : [])];
  server = await startRpcServer({
    host: options.host,
    port: options.port,
    logger: options.logger,
    secret: options.secret,
    helloTimeoutMs: options.helloTimeoutMs,
    functions: served,
    readsCancel: true,
    limits: {
      ...limits,
      flags: { maxInflight: '--max-inflight', maxInflightPerConnection: '--max-inflight-per-connection', maxReplyBytesPerConnection: '--max-reply-bytes-per-connection' },
    },
    handle: (call, form, cancel) => {
      children?.begin(call);
      return dispatch(call, call.args, form, cancel).then((e) => {
        children?.end(call);
        // A property, not a WeakMap entry: the scavenger keeps those alive one round more.
        (call as RanCall)[RAN_IN] = e.instance;
        // Its client left: whatever the function made, nobody reads it (its encoding is spared), and its
        // record says why (a failure that the aborted signal caused is not the function's own).
        if (cancel.cancelled) {
          const { t3_start, t3_end } = e.outcome;
          return { err: { code: ReplyErrorCode.cancelled, message: 'the call was cancelled: its client left' }, t3_start, t3_end };
        }
        return slowdown > 1 ? slowed(e.outcome, slowdown) : e.outcome;
      });
    },
    interrupted: (call) => {
      children?.end(call);
      const e = executor.takeInterrupted();
      if (e) (call as RanCall)[RAN_IN] = e.instance;
      return e?.outcome ?? null;
    },
    settlesHere: () => lastWasWorkflow || executor.settlesHere,
    turn: (next) => executor.turn(next),
    frameOffsets: options.kernelStamps,
    onReplySent: (call, outcome, t3_recv, t3_send, at) => recordCall(call, outcome, (call as RanCall)[RAN_IN] ?? null, t3_recv, t3_send, options.kernelStamps === true ? (at ?? null) : undefined),
    // Its client never took the reply: recorded all the same, t3_send the moment that was known.
    onReplyDropped: (call, outcome, t3_recv, at, why) => recordCall(call, outcome, (call as RanCall)[RAN_IN] ?? null, t3_recv, at, undefined, why),
  });
  const rpc = server;
  rpcAddress = `${rpc.address.address}:${rpc.address.port}`;
  connections = () => rpc.connections;
  const running = await role.serve({
    gauges: () => ({ ...executor.load }),
    announce: { address: rpcAddress, functions: served, ...(slowdown > 1 ? { experimentSlowdown: slowdown } : {}), ...(workflows.size ? { workflows: [...workflows.keys()], callMode: composer.mode, coordinator } : {}) },
    message: 'worker listening',
    // Calls arrive many at a time per connection: each call's frame offset finds its segment.
    watch: { serve: [{ port: rpc.address.port, mode: 'seg' }], dial: [] },
    close: async () => {
      await rpc.close();
      await composer!.close();
      await executor.close();
      children?.killAll();
    },
  });
  return {
    address: { host: rpc.address.address, port: rpc.address.port },
    functions: served,
    metricsUrl: running.metricsUrl,
    close: () => running.close(),
  };
}

async function loadWorkflowsOrExplain(dir: string): Promise<Map<string, Workflow>> {
  try {
    return await loadWorkflows(dir);
  } catch (err) {
    // A definition the worker cannot serve stops it at start, in one line.
    if (err instanceof WorkflowError) throw new UsageError(err.message);
    throw err;
  }
}

/** A nested call refused before it ran: no instance, its stamps the moment of the refusal. */
function refusedCall(refused: { code: string; message: string }): Executed {
  const t = now();
  return { outcome: { err: refused, t3_start: t, t3_end: t }, instance: null };
}
