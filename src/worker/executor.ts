import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ReplyErrorCode } from '../rpc/protocol.js';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import type { LoadedFunction } from './registry.js';
import { thrownName, type PoolTask } from './pool-task.js';

export interface ExecutorOptions {
  functions: Map<string, LoadedFunction>;
  assetsDir: string;
  timeoutMs: number;
  /** Heap limit of each pool thread, so a runaway allocation kills a thread, not the worker. */
  poolMemoryMb: number;
  poolThreads?: number;
}

class TimeLimitError extends Error {}

/**
 * Runs calls: inline functions on this event loop, pool functions in worker
 * threads. Every outcome, including every failure, becomes a reply: this
 * never throws, so one bad call cannot take the worker down.
 */
export class Executor {
  private readonly pool: Piscina<PoolTask, unknown> | null;

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

  async run(name: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const loaded = this.options.functions.get(name);
    if (!loaded) {
      const t = now();
      const hint = name === 'fault' ? ' (start the worker with --allow-fault-functions)' : '';
      const message = `no function named ${JSON.stringify(name)} on this worker${hint}`;
      return { err: { code: ReplyErrorCode.unknownFunction, message }, t3_start: t, t3_end: t };
    }
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Settle the limit before aborting: the abort makes the pool reject at
        // once, and the race must report the time limit, not that abort.
        reject(new TimeLimitError());
        controller.abort();
      }, this.options.timeoutMs);
    });
    const t3_start = now();
    try {
      const result = await Promise.race([this.invoke(loaded, args, controller.signal), limit]);
      const t3_end = now();
      if (result instanceof Uint8Array) {
        return { result, ctype: loaded.fn.contentType ?? 'application/octet-stream', t3_start, t3_end };
      }
      return { result: result ?? null, t3_start, t3_end };
    } catch (err) {
      return { err: this.classify(err, name), t3_start, t3_end: now() };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }

  private invoke(loaded: LoadedFunction, args: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
    if (loaded.fn.mode === 'pool' && this.pool) {
      // Aborting a pool task terminates its thread: the only way to stop a loop.
      return this.pool.run({ url: loaded.url, args, assetsDir: this.options.assetsDir }, { signal });
    }
    return Promise.resolve().then(() => loaded.fn.run(args, { signal, assetsDir: this.options.assetsDir }));
  }

  private classify(err: unknown, name: string): { code: string; message: string } {
    if (err instanceof TimeLimitError) {
      return { code: ReplyErrorCode.functionTimeout, message: `function ${name} ran past its limit of ${this.options.timeoutMs} ms` };
    }
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    if (thrownName(e) === 'InputError') return { code: ReplyErrorCode.badInput, message: e.message };
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return { code: ReplyErrorCode.outOfMemory, message: `function ${name} exceeded its memory limit of ${this.options.poolMemoryMb} MB` };
    }
    if (/worker exited with code/.test(e.message)) {
      return { code: ReplyErrorCode.functionCrashed, message: `function ${name} ended its thread (${e.message})` };
    }
    return { code: ReplyErrorCode.functionError, message: `function ${name} failed: ${e.message}` };
  }
}
