import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Cancel } from '../rpc/cancel.js';
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import type { Isolation } from './instance.js';
import { callDone, type CallOrigin } from './compose/composer.js';
import { InlineRunner } from './inline-runner.js';
import { InstanceRunner } from './instance-runner.js';
import type { InstancesOptions } from './instances.js';
import type { Executed, ExecutorLoad, Limit, NestedCalls } from './outcome.js';
import { PoolRunner } from './pool-runner.js';
import type { LoadedFunction } from './registry.js';

export type { Executed, ExecutorLoad, NestedCalls } from './outcome.js';

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

/**
 * Runs calls: each in an instance of its function (instance-runner.ts), or
 * under `--isolation inline` inline functions on this event loop
 * (inline-runner.ts) and pool functions in worker threads (pool-runner.ts).
 * Every outcome, including every failure, becomes a reply: this never throws,
 * so one bad call cannot take the worker down.
 *
 * t3_start / t3_end come from callStamped() in the thread that runs the
 * function, so the pool's queue, the wait for an instance, its cold start and
 * the dispatch of other calls stay out of the `function` stage and land in
 * `worker queue`. Calls wait for a thread or an instance first come, first served.
 */
export class Executor {
  private readonly instances: InstanceRunner | null = null;
  private readonly inline: InlineRunner | null = null;
  private readonly pool: PoolRunner | null = null;
  private inflight = 0;
  private lastSettlesHere = false;

  constructor(private readonly options: ExecutorOptions) {
    const { isolation, functions } = options;
    const limits = { timeoutMs: options.timeoutMs, memoryMb: options.poolMemoryMb };
    if (isolation !== 'inline') {
      const instanceOptions = { ...options.instances, isolation, memoryMb: options.poolMemoryMb, assetsDir: options.assetsDir, timeoutMs: options.timeoutMs };
      this.instances = new InstanceRunner(functions.values(), instanceOptions, limits, options.nested);
      return;
    }
    const all = [...functions.values()];
    if (all.some((f) => f.fn.mode === 'pool')) this.pool = new PoolRunner(options.poolThreads ?? availableParallelism(), options.assetsDir, limits);
    // Only inline functions run on this loop: without any, nothing to watch.
    // FAASBENCH_INLINE_WATCHDOG=off turns it off: for stepping through an
    // inline function in a debugger, and to measure what it costs.
    const watch = process.env.FAASBENCH_INLINE_WATCHDOG !== 'off' && all.some((f) => f.fn.mode !== 'pool');
    this.inline = new InlineRunner(options.assetsDir, limits, watch, () => options.onInterrupted?.(), options.nested);
  }

  /** Whether the last call dispatched left a promise that settles on this thread (its t3_end is stamped in a reaction). */
  get settlesHere(): boolean {
    return this.lastSettlesHere;
  }

  /** Waits for a turn before the next dispatch (inline-runner.ts). */
  turn(next: () => void): void {
    if (this.inline) this.inline.turn(next);
    else void Promise.resolve().then(next);
  }

  /** The inline call the watchdog terminated, answered as timed out, or null when none was. */
  takeInterrupted(): Executed | null {
    const e = this.inline?.takeInterrupted() ?? null;
    // Its frames were unwound without `finally`: the in-flight count is undone here.
    if (e) this.inflight--;
    return e;
  }

  get load(): ExecutorLoad {
    const pool = this.pool?.load ?? { pool_running: 0, pool_queued: 0 };
    const instances = this.instances?.instances.load ?? { instances: 0, instances_busy: 0, instances_queued: 0 };
    return { inflight: this.inflight, ...pool, ...instances };
  }

  /** Starts the pre-warmed instances (--min-instances). */
  prewarm(): Promise<void> {
    return this.instances?.instances.prewarm() ?? Promise.resolve();
  }

  /** Whether a function of this name is loaded here. */
  has(name: string): boolean {
    return this.options.functions.has(name);
  }

  /** Boot-ahead: have an instance of `name` starting, unless one is idle or starting already. */
  bootAhead(name: string): void {
    const loaded = this.options.functions.get(name);
    if (loaded) this.instances?.instances.bootAhead(loaded);
  }

  /**
   * The one path of every call: a hook that counts calls belongs here.
   * `form`: how its result travels (its connection's form; 'value' for a
   * nested call, whose parent consumes it). `origin`: the call's id and
   * nesting, for its ctx.call and its limit. `cancel`: its client left (a
   * pool call runs on).
   */
  run(name: string, args: Record<string, unknown>, form: ResultForm = 'value', origin?: CallOrigin, cancel?: Cancel): Promise<Executed> {
    // Set again for an inline call: nothing else leaves a promise that settles here.
    this.lastSettlesHere = false;
    const loaded = this.options.functions.get(name);
    if (!loaded) {
      const t = now();
      const hint = name === 'fault' ? ' (start the worker with --allow-fault-functions)' : '';
      const message = `no function named ${JSON.stringify(name)} on this worker${hint}`;
      return Promise.resolve({ outcome: { err: { code: ReplyErrorCode.unknownFunction, message }, t3_start: t, t3_end: t }, instance: null });
    }
    this.inflight++;
    const spec = { form, limit: this.limitOf(origin), origin, cancel };
    let executed: Promise<Executed>;
    if (this.instances) executed = this.instances.run(loaded, args, spec);
    else if (loaded.fn.mode === 'pool' && this.pool) executed = this.pool.run(loaded, args, spec);
    else {
      executed = this.inline!.run(loaded, args, spec);
      this.lastSettlesHere = this.inline!.settlesHere;
    }
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
    await this.inline?.close();
    await this.instances?.close();
    await this.pool?.close();
  }
}
