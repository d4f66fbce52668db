/**
 * The instances of every function: started cold on demand, reused
 * most-recently-used first (a LIFO warm stack, as seed 002's prototype does),
 * ended after `keepWarmMs` without a call, at most `maxInstances` per
 * function with the calls beyond waiting in arrival order, and `minInstances`
 * started ahead and kept.
 */
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import { Instance, InstanceDied, type ColdStamps, type HostResult, type Isolation, type NestedFromHost } from './instance.js';
import type { LoadedFunction } from './registry.js';

export type { NestedFromHost } from './instance.js';

export interface InstancesOptions {
  isolation: Isolation;
  keepWarmMs: number;
  maxInstances: number;
  minInstances: number;
  memoryMb: number;
  assetsDir: string;
  timeoutMs: number;
}

/** What a call's record says about where it ran. */
export interface InstanceUse {
  instance: string;
  /** The call started its instance: the cold start's stamps, else null. */
  cold: ColdStamps | null;
}

/** A call's run in an instance: the host's answer, or why there was none. */
export type InstanceRun =
  | { ok: true; result: HostResult; use: InstanceUse }
  | { ok: false; error: InstanceDied; use: InstanceUse | null };

interface Waiter {
  grant(instance: Instance, cold: boolean): void;
  fail(error: InstanceDied): void;
}

class FunctionInstances {
  /** Idle instances; the last one is the most recently used. */
  readonly idle: Instance[] = [];
  readonly expiry = new Map<Instance, NodeJS.Timeout>();
  readonly waiters: Waiter[] = [];
  /** Instances alive or starting. */
  live = 0;
  busy = 0;
  /** Instances booted ahead of a call (boot-ahead) and still starting: a call that finds none idle waits for one of them. */
  ahead = 0;
  constructor(readonly loaded: LoadedFunction) {}
}

let sequence = 0;

export class Instances {
  private readonly byName = new Map<string, FunctionInstances>();
  private closed = false;

  constructor(
    functions: Iterable<LoadedFunction>,
    private readonly options: InstancesOptions,
  ) {
    for (const f of functions) this.byName.set(f.name, new FunctionInstances(f));
  }

  /** Starts `minInstances` of every function; resolves when they are warm (a start that fails is retried by the next call). */
  async prewarm(): Promise<void> {
    const starts: Promise<unknown>[] = [];
    for (const f of this.byName.values()) {
      for (let k = f.live; k < this.options.minInstances; k++) starts.push(this.startInto(f).catch(() => {}));
    }
    await Promise.all(starts);
  }

  get load(): { instances: number; instances_busy: number; instances_queued: number } {
    let instances = 0;
    let busy = 0;
    let queued = 0;
    for (const f of this.byName.values()) {
      instances += f.live;
      busy += f.busy;
      queued += f.waiters.length;
    }
    return { instances, instances_busy: busy, instances_queued: queued };
  }

  /**
   * Runs one call in an instance of `loaded`. The time limit (`limitMs`, the
   * worker's unless a parent left less) counts from now: a call that waits
   * for an instance, or for its cold start, past it fails like one that runs
   * too long, and one that runs too long ends its instance. `onCall` makes
   * the call's ctx.calls.
   */
  run(loaded: LoadedFunction, args: Record<string, unknown>, form: ResultForm, limitMs = this.options.timeoutMs, onCall?: NestedFromHost): Promise<InstanceRun> {
    const f = this.byName.get(loaded.name)!;
    return new Promise<InstanceRun>((resolve) => {
      let settled = false;
      let running: Instance | null = null;
      let use: InstanceUse | null = null;
      const waiter: Waiter = {
        grant: (instance, cold) => {
          if (settled) return this.release(f, instance);
          running = instance;
          use = { instance: instance.id, cold: cold ? instance.cold : null };
          f.busy++;
          instance.call(args, form, onCall).then(
            (result) => {
              f.busy--;
              this.release(f, instance);
              finish({ ok: true, result, use: use! });
            },
            (error: InstanceDied) => {
              f.busy--;
              finish({ ok: false, error, use});
            },
          );
        },
        fail: (error) => finish({ ok: false, error, use: null}),
      };
      const timer = setTimeout(() => {
        const error = new InstanceDied(ReplyErrorCode.functionTimeout, `function ${loaded.name} ran past its limit of ${limitMs} ms`);
        const queued = f.waiters.indexOf(waiter);
        if (queued !== -1) f.waiters.splice(queued, 1);
        if (running) running.end(error);
        finish({ ok: false, error, use});
      }, limitMs);
      const finish = (r: InstanceRun) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      this.acquire(f, waiter);
    });
  }

  /**
   * Seed 004's boot-ahead: starts an instance of `loaded` for a call about to
   * come, unless one is idle, one is booting ahead already, or the function
   * is at --max-instances. The call then waits for it instead of starting its
   * own; its record shows the start (cold, with cold_spawn before t3_recv).
   */
  bootAhead(loaded: LoadedFunction): void {
    const f = this.byName.get(loaded.name);
    if (!f || this.closed || f.idle.length > 0 || f.ahead > 0 || f.live >= this.options.maxInstances) return;
    f.ahead++;
    this.startInto(f, undefined, true).catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = new InstanceDied(ReplyErrorCode.functionCrashed, 'the worker is closing');
    for (const f of this.byName.values()) {
      for (const w of f.waiters.splice(0)) w.fail(gone);
      for (const t of f.expiry.values()) clearTimeout(t);
      f.expiry.clear();
      for (const i of f.idle.splice(0)) i.end(gone);
    }
  }

  private acquire(f: FunctionInstances, waiter: Waiter): void {
    const warm = f.idle.pop();
    if (warm) {
      clearTimeout(f.expiry.get(warm));
      f.expiry.delete(warm);
      return waiter.grant(warm, false);
    }
    // A call that finds no warm instance starts its own and waits for it (a
    // cold call), as a platform does: were it served by whichever instance
    // freed first, every collision during a slow start would start another
    // instance that no call is charged for. At --max-instances it queues, and
    // so it does for an instance booted ahead that no earlier call waits for.
    if (f.waiters.length >= f.ahead && f.live < this.options.maxInstances) this.startInto(f, waiter).catch(() => {});
    else f.waiters.push(waiter);
  }

  /**
   * Starts one instance of `f` for `owner` (the call that asked for it), or
   * with no owner (pre-warming, a replacement) for the first waiter or the
   * warm stack.
   */
  private startInto(f: FunctionInstances, owner?: Waiter, ahead = false): Promise<Instance> {
    f.live++;
    const id = `${process.pid}-${f.loaded.name}-${++sequence}`;
    const started = Instance.start({ ...this.options, url: f.loaded.url, instance: id });
    return started.then(
      (instance) => {
        if (ahead) f.ahead--;
        instance.onDeath = () => this.lost(f, instance);
        // An owner that has given up (its time limit) hands it on through release().
        const waiter = owner ?? f.waiters.shift();
        if (waiter) waiter.grant(instance, true);
        else this.release(f, instance, true);
        return instance;
      },
      (error: InstanceDied) => {
        f.live--;
        if (ahead) f.ahead--;
        // A module that cannot start fails the call that asked for it, not every queued call.
        (owner ?? f.waiters.shift())?.fail(error);
        throw error;
      },
    );
  }

  /** An instance finished a call (or its start): hand it to the next waiter, else make it the top of the warm stack. */
  private release(f: FunctionInstances, instance: Instance, fresh = false): void {
    if (!instance.alive) return;
    if (this.closed) return instance.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'the worker is closing'));
    const waiter = f.waiters.shift();
    if (waiter) return waiter.grant(instance, fresh);
    f.idle.push(instance);
    if (f.live > this.options.minInstances) {
      f.expiry.set(
        instance,
        setTimeout(() => instance.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'expired')), this.options.keepWarmMs).unref(),
      );
    }
  }

  private lost(f: FunctionInstances, instance: Instance): void {
    f.live--;
    clearTimeout(f.expiry.get(instance));
    f.expiry.delete(instance);
    const at = f.idle.indexOf(instance);
    if (at !== -1) f.idle.splice(at, 1);
    if (this.closed) return;
    // A lost instance leaves room: the first waiting call starts its own, and the pre-warmed floor is kept.
    const waiter = f.waiters.shift();
    if (waiter || f.live < this.options.minInstances) this.startInto(f, waiter).catch(() => {});
  }
}
