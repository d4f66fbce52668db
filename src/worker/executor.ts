import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { Cancel } from '../rpc/cancel.js';
import { ReplyErrorCode } from '../rpc/protocol.js';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import type { FunctionContext } from '../contract/function.js';
import { InlineWatchdog } from './inline-watchdog.js';
import type { Isolation } from './instance.js';
import { Instances, type InstanceRun, type InstanceUse, type InstancesOptions, type NestedFromHost } from './instances.js';
import type { LoadedFunction } from './registry.js';
import type { PoolResult, PoolTask } from './pool-task.js';
import { callStamped, type Ran } from './stamped-call.js';
import { callDone, CallFailed, type Answer, type CallOrigin } from './compose/composer.js';
import type { OutgoingCall } from '../trace/records.js';

export interface ExecutorOptions {
  functions: Map<string, LoadedFunction>;
  assetsDir: string;
  timeoutMs: number;
  /** Heap limit of each pool thread, so a runaway allocation kills a thread, not the worker. */
  poolMemoryMb: number;
  poolThreads?: number;
  /** `inline`: inline functions on this loop, pool functions in the pool (the floor); else every function in instances. */
  isolation: Isolation | 'inline';
  instances: Pick<InstancesOptions, 'keepWarmMs' | 'maxInstances' | 'maxTotal' | 'minInstances'>;
  /**
   * Under `--isolation inline`: the watchdog stopped an inline call that ran
   * past the limit (its caller's frames are gone); takeInterrupted() answers it.
   */
  onInterrupted?: () => void;
  /** Makes the nested calls of ctx.call (compose/composer.ts); without it ctx.call rejects. */
  nested?: NestedCalls;
}

/** What ctx.call needs: the composer's call(). */
export interface NestedCalls {
  call(origin: CallOrigin, deadlineMs: number, fn: string, args: Record<string, unknown>, step: string | null, cSend?: bigint): { record: OutgoingCall; answer: Promise<Answer> };
}

/** A call's own limit: the worker's, or less when a parent left it less (a nested call never outlives its parent). */
interface Limit {
  ms: number;
  /** performance.now() time at which it ends. */
  deadline: number;
}

/** A call's outcome, and the instance that ran it (for its record). */
export interface Executed {
  outcome: CallOutcome;
  instance: InstanceUse | null;
}

/** How busy the executor is right now: the worker's saturation samples read it. */
export interface ExecutorLoad {
  /** Calls handed to the executor and not yet answered. */
  inflight: number;
  /** Of those, pool calls a thread is running. */
  pool_running: number;
  /** Of those, pool calls waiting for a thread. */
  pool_queued: number;
  /** Instances alive or starting, of every function (0 inline). */
  instances: number;
  /** Of those, running a call. */
  instances_busy: number;
  /** Calls waiting for an instance (beyond --max-instances, or for a cold start). */
  instances_queued: number;
}

/**
 * An inline call's context. Its signal is made when the function first reads
 * it: node builds an AbortSignal lazily, at 2 µs at the median and 20 µs at
 * p90 here, which a function that never waits should not pay (or be booked).
 */
class CallContext implements FunctionContext {
  private controller: AbortController | null = null;
  constructor(
    readonly assetsDir: string,
    readonly timeoutMs: number,
    readonly instance: string,
    private readonly origin: CallOrigin | undefined,
    private readonly deadline: number,
    private readonly nested: NestedCalls | undefined,
  ) {}
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  /** Also when the signal was not read yet: a function that reads it later must find it aborted. */
  abort(): void {
    (this.controller ??= new AbortController()).abort();
  }
  call(name: string, args: Record<string, unknown> = {}, options?: { step?: string }): Promise<unknown> {
    if (!this.nested || !this.origin) return Promise.reject(new CallFailed(ReplyErrorCode.functionError, 'ctx.call is not available on this worker'));
    return this.nested.call(this.origin, this.deadline, name, args, options?.step ?? null).answer.then((a) => (a.ok ? a.value : Promise.reject(new CallFailed(a.code, a.message))));
  }
}

/**
 * Runs calls: each in an instance of its function (instances.ts), or under
 * `--isolation inline` inline functions on this event loop and pool functions
 * in worker threads. Every outcome, including every failure, becomes a reply: this
 * never throws, so one bad call cannot take the worker down.
 *
 * t3_start / t3_end come from callStamped() in the thread that runs the
 * function, so the pool's queue, the wait for an instance, its cold start and the dispatch of other calls stay out of
 * the `function` stage and land in `worker queue`.
 */
export class Executor {
  private readonly pool: Piscina<PoolTask, unknown> | null;
  private readonly instances: Instances | null;
  private readonly watchdog: InlineWatchdog | null;
  private inflight = 0;
  private pooled = 0;
  /** The synchronous inline call running now (null outside one), for takeInterrupted(). */
  private running: LoadedFunction | null = null;
  private runningStart = 0n;
  private lastSettlesHere = false;

  constructor(private readonly options: ExecutorOptions) {
    const { isolation } = options;
    this.instances =
      isolation === 'inline'
        ? null
        : new Instances(options.functions.values(), {
            ...options.instances,
            isolation,
            memoryMb: options.poolMemoryMb,
            assetsDir: options.assetsDir,
            timeoutMs: options.timeoutMs,
          });
    const needsPool = isolation === 'inline' && [...options.functions.values()].some((f) => f.fn.mode === 'pool');
    const threads = options.poolThreads ?? availableParallelism();
    this.pool = needsPool
      ? new Piscina({
          filename: new URL('./pool-task.js', import.meta.url).href,
          minThreads: threads,
          maxThreads: threads,
          idleTimeout: 60_000,
          resourceLimits: { maxOldGenerationSizeMb: options.poolMemoryMb, maxYoungGenerationSizeMb: 32 },
        })
      : null;
    // Only inline functions run on this loop: without any, nothing to watch.
    // FAASBENCH_INLINE_WATCHDOG=off turns it off: for stepping through an
    // inline function in a debugger, and to measure what it costs.
    const needsWatchdog =
      isolation === 'inline' && process.env.FAASBENCH_INLINE_WATCHDOG !== 'off' && [...options.functions.values()].some((f) => f.fn.mode !== 'pool');
    this.watchdog = needsWatchdog ? new InlineWatchdog(options.timeoutMs, () => options.onInterrupted?.()) : null;
  }

  /** Whether the last call dispatched left a promise that settles on this thread (its t3_end is stamped in a reaction). */
  get settlesHere(): boolean {
    return this.lastSettlesHere;
  }

  /**
   * Waits for a turn before the next dispatch: a microtask, or with the
   * watchdog a message, since a call terminated in a microtask would take
   * every other queued microtask with it.
   */
  turn(next: () => void): void {
    if (this.watchdog) this.watchdog.hop(next);
    else void Promise.resolve().then(next);
  }

  /**
   * The inline call the watchdog terminated, answered as timed out, or null
   * when none was. Its frames were unwound without `finally`: what they would
   * have undone (the in-flight count, the running call) is undone here.
   */
  takeInterrupted(): Executed | null {
    const loaded = this.running;
    if (!loaded) return null;
    this.running = null;
    this.watchdog?.reset();
    this.inflight--;
    return { outcome: this.timedOut(loaded.name, this.runningStart), instance: { instance: inlineInstance(loaded.name), cold: null } };
  }

  get load(): ExecutorLoad {
    const queued = this.pool?.queueSize ?? 0;
    const instances = this.instances?.load ?? { instances: 0, instances_busy: 0, instances_queued: 0 };
    return { inflight: this.inflight, pool_running: this.pooled - queued, pool_queued: queued, ...instances };
  }

  /** Starts the pre-warmed instances (--min-instances). */
  prewarm(): Promise<void> {
    return this.instances?.prewarm() ?? Promise.resolve();
  }

  /** Whether a function of this name is loaded here. */
  has(name: string): boolean {
    return this.options.functions.has(name);
  }

  /** Boot-ahead: have an instance of `name` starting, unless one is idle or starting already. */
  bootAhead(name: string): void {
    const loaded = this.options.functions.get(name);
    if (loaded) this.instances?.bootAhead(loaded);
  }

  /**
   * The one path of every call: a hook that counts calls belongs here.
   * `origin`: the call's id and nesting, for its ctx.call and its limit.
   * `cancel`: its client left (a pool call runs on).
   */
  run(name: string, args: Record<string, unknown>, origin?: CallOrigin, cancel?: Cancel): Promise<Executed> {
    // Set again by runInline: nothing else leaves a promise that settles here.
    this.lastSettlesHere = false;
    const loaded = this.options.functions.get(name);
    if (!loaded) {
      const t = now();
      const hint = name === 'fault' ? ' (start the worker with --allow-fault-functions)' : '';
      const message = `no function named ${JSON.stringify(name)} on this worker${hint}`;
      return Promise.resolve({ outcome: { err: { code: ReplyErrorCode.unknownFunction, message }, t3_start: t, t3_end: t }, instance: null });
    }
    this.inflight++;
    const limit = this.limitOf(origin);
    const executed = this.instances
      ? this.runInInstance(this.instances, loaded, args, limit, origin, cancel)
      : (loaded.fn.mode === 'pool' && this.pool ? this.runPooled(this.pool, loaded, args, limit) : this.runInline(loaded, args, limit, origin, cancel)).then(
          (outcome) => ({ outcome, instance: { instance: inlineInstance(loaded.name), cold: null } }),
        );
    return executed.then((e) => {
      this.inflight--;
      if (origin) callDone(origin);
      return e;
    });
  }

  private limitOf(origin: CallOrigin | undefined): Limit {
    const budget = origin?.nest?.budgetMs;
    const ms = budget === undefined ? this.options.timeoutMs : Math.max(1, Math.min(this.options.timeoutMs, Math.floor(budget)));
    return { ms, deadline: performance.now() + ms };
  }

  async close(): Promise<void> {
    await this.watchdog?.close();
    await this.instances?.close();
    await this.pool?.destroy();
  }

  private async runInInstance(instances: Instances, loaded: LoadedFunction, args: Record<string, unknown>, limit: Limit, origin: CallOrigin | undefined, cancel?: Cancel): Promise<Executed> {
    const handedOver = now();
    // ctx.call from the instance: made here on its behalf; its records by the host's ids, for the stamps the host sends back.
    const made = new Map<number, OutgoingCall>();
    const nested = this.options.nested;
    const onCall: NestedFromHost | undefined =
      nested && origin
        ? (m, reply) => {
            const { record, answer } = nested.call(origin, limit.deadline, m.fn, m.args, m.step, m.c_send);
            made.set(m.id, record);
            void answer.then(reply);
          }
        : undefined;
    const run: InstanceRun = await instances.run(loaded, args, limit.ms, onCall, cancel);
    if (!run.ok) {
      // No stamps from the instance: the stage then includes the wait and any cold start.
      return { outcome: { err: { code: run.error.code, message: run.error.message }, t3_start: handedOver, t3_end: now() }, instance: run.use };
    }
    const r = run.result;
    // The host stamped when each answer reached the function's thread: that, not when it left here, ends the hop.
    for (const [id, c_recv] of r.calls ?? []) {
      const record = made.get(id);
      if (record) record.c_recv = c_recv;
    }
    const error = r.error ? Object.assign(new Error(r.error.message), { name: r.error.name, code: r.error.code }) : undefined;
    return { outcome: this.outcome(loaded, { ok: r.ok, value: r.value, error, t3_start: r.t3_start, t3_end: r.t3_end }), instance: run.use };
  }

  private runInline(loaded: LoadedFunction, args: Record<string, unknown>, limit: Limit, origin: CallOrigin | undefined, cancel?: Cancel): Promise<CallOutcome> {
    const context = new CallContext(this.options.assetsDir, limit.ms, inlineInstance(loaded.name), origin, limit.deadline, this.options.nested);
    cancel?.onCancel(() => context.abort());
    const t3_start = now();
    const watchdog = this.watchdog;
    let ran: Ran | Promise<Ran>;
    if (watchdog) {
      // Only the synchronous part is watched: a loop after an await runs in a
      // microtask, where a termination is not survivable (inline-watchdog.ts).
      const id = watchdog.enter();
      this.running = loaded;
      this.runningStart = t3_start;
      ran = callStamped(() => loaded.fn.run(args, context), t3_start);
      watchdog.leave(id);
      this.running = null;
    } else {
      ran = callStamped(() => loaded.fn.run(args, context), t3_start);
    }
    this.lastSettlesHere = ran instanceof Promise;
    if (!(ran instanceof Promise)) return Promise.resolve(this.outcome(loaded, ran));
    // Only a function that waits can be stopped at its limit (a synchronous
    // one has already returned): the timer exists for those alone.
    return new Promise<CallOutcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.timedOut(loaded.name, t3_start, limit.ms));
        context.abort();
      }, limit.ms);
      void ran.then((r) => {
        clearTimeout(timer);
        resolve(this.outcome(loaded, r));
      });
    });
  }

  private runPooled(pool: Piscina<PoolTask, unknown>, loaded: LoadedFunction, args: Record<string, unknown>, limit: Limit): Promise<CallOutcome> {
    const controller = new AbortController();
    // The limit counts from the hand-over: a call stuck in the pool's queue
    // past it is stopped like one that runs too long.
    const handedOver = now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Aborting a pool task terminates its thread: the only way to stop a loop.
      controller.abort();
    }, limit.ms);
    this.pooled++;
    const task: PoolTask = { url: loaded.url, args, assetsDir: this.options.assetsDir, timeoutMs: limit.ms, instance: inlineInstance(loaded.name) };
    return pool.run(task, { signal: controller.signal }).then(
      (result) => {
        this.pooled--;
        clearTimeout(timer);
        const r = result as PoolResult;
        const error = r.error ? Object.assign(new Error(r.error.message), { name: r.error.name }) : undefined;
        return this.outcome(loaded, { ok: r.ok, value: r.value, error, t3_start: r.t3_start, t3_end: r.t3_end });
      },
      (err: unknown) => {
        this.pooled--;
        clearTimeout(timer);
        // The thread died (time limit, heap limit, exit) before it could
        // report when the function started: the stage then includes the queue.
        if (timedOut) return this.timedOut(loaded.name, handedOver, limit.ms);
        return { err: this.classify(err, loaded.name), t3_start: handedOver, t3_end: now() };
      },
    );
  }

  private outcome(loaded: LoadedFunction, r: Ran): CallOutcome {
    const { t3_start, t3_end } = r;
    if (!r.ok) return { err: this.classify(r.error, loaded.name), t3_start, t3_end };
    if (r.value instanceof Uint8Array) {
      return { result: r.value, ctype: loaded.fn.contentType ?? 'application/octet-stream', t3_start, t3_end };
    }
    return { result: r.value ?? null, t3_start, t3_end };
  }

  private timedOut(name: string, t3_start: bigint, limitMs = this.options.timeoutMs): CallOutcome {
    const message = `function ${name} ran past its limit of ${limitMs} ms`;
    return { err: { code: ReplyErrorCode.functionTimeout, message }, t3_start, t3_end: now() };
  }

  private classify(err: unknown, name: string): { code: string; message: string } {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    if (e.name === 'InputError') return { code: ReplyErrorCode.badInput, message: e.message };
    // A nested call's failure the function let escape: the callee's error, as it was.
    if (e.name === 'CallFailed' && typeof code === 'string') return { code, message: e.message };
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return { code: ReplyErrorCode.outOfMemory, message: `function ${name} exceeded its memory limit of ${this.options.poolMemoryMb} MB` };
    }
    if (/worker exited with code/.test(e.message)) {
      return { code: ReplyErrorCode.functionCrashed, message: `function ${name} ended its thread (${e.message})` };
    }
    return { code: ReplyErrorCode.functionError, message: `function ${name} failed: ${e.message}` };
  }
}

/** Under --isolation inline a function has one instance for the worker's life: its module, loaded at start. */
function inlineInstance(name: string): string {
  return `${process.pid}-${name}-inline`;
}
