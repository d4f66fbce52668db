/**
 * Pool calls (`--isolation inline`, functions of mode `pool`): CPU-bound
 * functions in a pool of worker threads sized to the cores (piscina), waiting
 * for a thread first come, first served.
 *
 * The queue is this module's, not the pool's: piscina re-queues a task it
 * could not hand to a thread at the tail of its queue, or with `stricterFIFO`
 * puts every new abortable task at the head (piscinajs/piscina#1031, #899),
 * so under load some calls waited behind thousands of later ones (a p99 of
 * 16× the p50 at 150 connections). Here the pool is handed a task only when
 * a thread is free, and its own queue stays empty.
 */
import { Piscina } from 'piscina';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import type { Answer } from './answer.js';
import { classify, inlineInstance, outcomeOf, timedOut, type Executed, type Limits, type Runner, type RunSpec } from './outcome.js';
import type { PoolTask } from './pool-task.js';
import type { LoadedFunction } from './registry.js';

interface Waiting {
  loaded: LoadedFunction;
  task: PoolTask;
  /** When the executor handed the call over: the time limit counts from here. */
  handedOver: bigint;
  /** The call's own limit, ms. */
  limitMs: number;
  timer: NodeJS.Timeout | null;
  /** Set once the call has a thread: aborting it ends that thread. */
  controller: AbortController | null;
  timedOut: boolean;
  done: (e: Executed) => void;
}

export class PoolRunner implements Runner {
  private readonly pool: Piscina<PoolTask, unknown>;
  /** Calls waiting for a thread, oldest first. */
  private readonly waiting: Waiting[] = [];
  private running = 0;

  constructor(
    private readonly threads: number,
    private readonly assetsDir: string,
    private readonly limits: Limits,
  ) {
    this.pool = new Piscina({
      filename: new URL('./pool-task.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: 32 },
    });
  }

  get load(): { pool_running: number; pool_queued: number } {
    return { pool_running: this.running, pool_queued: this.waiting.length };
  }

  /** A pool function's ctx.call is refused in its thread (pool-task.ts): `spec.origin` is not needed here. */
  run(loaded: LoadedFunction, args: Record<string, unknown>, { form, limit }: RunSpec): Promise<Executed> {
    return new Promise((done) => {
      const task: PoolTask = { url: loaded.url, args, assetsDir: this.assetsDir, timeoutMs: limit.ms, instance: inlineInstance(loaded.name), form };
      const w: Waiting = { loaded, task, handedOver: now(), limitMs: limit.ms, timer: null, controller: null, timedOut: false, done };
      // The limit counts from the hand-over: a call that waits for a thread past it is stopped like one that runs too long.
      w.timer = setTimeout(() => this.expire(w), limit.ms);
      if (this.running < this.threads) this.start(w);
      else this.waiting.push(w);
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private start(w: Waiting): void {
    this.running++;
    w.controller = new AbortController();
    const name = w.loaded.name;
    this.pool.run(w.task, { signal: w.controller.signal }).then(
      (result) => this.settle(w, outcomeOf(result as Answer, name, this.limits)),
      (err: unknown) =>
        // The thread died (time limit, heap limit, exit) before it could
        // report when the function started: the stage then includes the queue.
        this.settle(w, w.timedOut ? timedOut(name, w.handedOver, w.limitMs) : { err: classify(err, name, this.limits), t3_start: w.handedOver, t3_end: now() }),
    );
  }

  private settle(w: Waiting, outcome: CallOutcome): void {
    this.running--;
    clearTimeout(w.timer!);
    w.done({ outcome, instance: { instance: w.task.instance, cold: null } });
    while (this.running < this.threads && this.waiting.length > 0) this.start(this.waiting.shift()!);
  }

  private expire(w: Waiting): void {
    w.timedOut = true;
    // Running: aborting the task terminates its thread, the only way to stop a loop; settle() answers.
    if (w.controller) return w.controller.abort();
    this.waiting.splice(this.waiting.indexOf(w), 1);
    w.done({ outcome: timedOut(w.loaded.name, w.handedOver, w.limitMs), instance: { instance: w.task.instance, cold: null } });
  }
}
