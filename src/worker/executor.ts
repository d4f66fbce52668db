import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ReplyErrorCode } from '../rpc/protocol.js';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import type { FunctionContext } from './contract.js';
import type { LoadedFunction } from './registry.js';
import type { PoolResult, PoolTask } from './pool-task.js';
import { callStamped, type Ran } from './stamped-call.js';

export interface ExecutorOptions {
  functions: Map<string, LoadedFunction>;
  assetsDir: string;
  timeoutMs: number;
  /** Heap limit of each pool thread, so a runaway allocation kills a thread, not the worker. */
  poolMemoryMb: number;
  poolThreads?: number;
}

/** How busy the executor is right now: the worker's saturation samples read it. */
export interface ExecutorLoad {
  /** Calls handed to the executor and not yet answered. */
  inflight: number;
  /** Of those, pool calls a thread is running. */
  pool_running: number;
  /** Of those, pool calls waiting for a thread. */
  pool_queued: number;
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
  ) {}
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  abort(): void {
    this.controller?.abort();
  }
}

/**
 * Runs calls: inline functions on this event loop, pool functions in worker
 * threads. Every outcome, including every failure, becomes a reply: this
 * never throws, so one bad call cannot take the worker down.
 *
 * t3_start / t3_end come from callStamped() in the thread that runs the
 * function, so the pool's queue and the dispatch of other calls stay out of
 * the `function` stage and land in `worker queue`.
 */
export class Executor {
  private readonly pool: Piscina<PoolTask, unknown> | null;
  private inflight = 0;
  private pooled = 0;

  constructor(private readonly options: ExecutorOptions) {
    const needsPool = [...options.functions.values()].some((f) => f.fn.mode === 'pool');
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
  }

  get load(): ExecutorLoad {
    const queued = this.pool?.queueSize ?? 0;
    return { inflight: this.inflight, pool_running: this.pooled - queued, pool_queued: queued };
  }

  run(name: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const loaded = this.options.functions.get(name);
    if (!loaded) {
      const t = now();
      const hint = name === 'fault' ? ' (start the worker with --allow-fault-functions)' : '';
      const message = `no function named ${JSON.stringify(name)} on this worker${hint}`;
      return Promise.resolve({ err: { code: ReplyErrorCode.unknownFunction, message }, t3_start: t, t3_end: t });
    }
    this.inflight++;
    const outcome = loaded.fn.mode === 'pool' && this.pool ? this.runPooled(this.pool, loaded, args) : this.runInline(loaded, args);
    return outcome.then((o) => {
      this.inflight--;
      return o;
    });
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }

  private runInline(loaded: LoadedFunction, args: Record<string, unknown>): Promise<CallOutcome> {
    const context = new CallContext(this.options.assetsDir, this.options.timeoutMs);
    const t3_start = now();
    const ran = callStamped(() => loaded.fn.run(args, context), t3_start);
    if (!(ran instanceof Promise)) return Promise.resolve(this.outcome(loaded, ran));
    // Only a function that waits can be stopped at its limit (a synchronous
    // one has already returned): the timer exists for those alone.
    return new Promise<CallOutcome>((resolve) => {
      const timer = setTimeout(() => {
        resolve(this.timedOut(loaded.name, t3_start));
        context.abort();
      }, this.options.timeoutMs);
      void ran.then((r) => {
        clearTimeout(timer);
        resolve(this.outcome(loaded, r));
      });
    });
  }

  private runPooled(pool: Piscina<PoolTask, unknown>, loaded: LoadedFunction, args: Record<string, unknown>): Promise<CallOutcome> {
    const controller = new AbortController();
    // The limit counts from the hand-over: a call stuck in the pool's queue
    // past it is stopped like one that runs too long.
    const handedOver = now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Aborting a pool task terminates its thread: the only way to stop a loop.
      controller.abort();
    }, this.options.timeoutMs);
    this.pooled++;
    const task: PoolTask = { url: loaded.url, args, assetsDir: this.options.assetsDir, timeoutMs: this.options.timeoutMs };
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
        if (timedOut) return this.timedOut(loaded.name, handedOver);
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

  private timedOut(name: string, t3_start: bigint): CallOutcome {
    const message = `function ${name} ran past its limit of ${this.options.timeoutMs} ms`;
    return { err: { code: ReplyErrorCode.functionTimeout, message }, t3_start, t3_end: now() };
  }

  private classify(err: unknown, name: string): { code: string; message: string } {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    if (e.name === 'InputError') return { code: ReplyErrorCode.badInput, message: e.message };
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return { code: ReplyErrorCode.outOfMemory, message: `function ${name} exceeded its memory limit of ${this.options.poolMemoryMb} MB` };
    }
    if (/worker exited with code/.test(e.message)) {
      return { code: ReplyErrorCode.functionCrashed, message: `function ${name} ended its thread (${e.message})` };
    }
    return { code: ReplyErrorCode.functionError, message: `function ${name} failed: ${e.message}` };
  }
}
