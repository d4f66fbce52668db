/**
 * The instances of every function: started cold on demand, reused
 * most-recently-used first (a LIFO warm stack, as seed 002's prototype does),
 * ended after `keepWarmMs` without a call, at most `maxInstances` per
 * function with the calls beyond waiting in arrival order, and `minInstances`
 * started ahead and kept. At most `maxTotal` instances live in all: a call
 * that needs a new one beyond that ends the longest-idle instance of another
 * function, or waits, in arrival order, for one to end.
 */
import type { Cancel } from '../rpc/cancel.js';
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import { Instance, InstanceDied, type ColdStamps, type HostResult, type Isolation, type NestedFromHost } from './instance.js';
import type { LoadedFunction } from './registry.js';

export type { NestedFromHost } from './instance.js';

export interface InstancesOptions {
  isolation: Isolation;
  keepWarmMs: number;
  maxInstances: number;
  /** Instances of all functions together. */
  maxTotal: number;
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
  /** When each idle instance went idle (performance.now()), for the longest-idle across functions. */
  readonly idleSince = new Map<Instance, number>();
  readonly expiry = new Map<Instance, NodeJS.Timeout>();
  readonly waiters: Waiter[] = [];
  /** Every instance started and not yet lost, busy or idle: all of them end with the worker. */
  readonly started = new Set<Instance>();
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
  /** Instances alive or starting, of every function. */
  private total = 0;
  /** Functions with a call waiting for room under maxTotal, in arrival order (one entry per such call). */
  private readonly room: FunctionInstances[] = [];

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
  run(loaded: LoadedFunction, args: Record<string, unknown>, form: ResultForm, limitMs = this.options.timeoutMs, onCall?: NestedFromHost, cancel?: Cancel): Promise<InstanceRun> {
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
              finish({ ok: false, error, use });
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
        finish({ ok: false, error, use });
      }, limitMs);
      const finish = (r: InstanceRun) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      // Its client left: a call still waiting (queued, or for the instance it is starting) gives up
      // its place, and a started instance goes to the next call (grant, settled); one running has its signal aborted.
      cancel?.onCancel(() => {
        if (running) return (running as Instance).cancel();
        const queued = f.waiters.indexOf(waiter);
        if (queued !== -1) f.waiters.splice(queued, 1);
        finish({ ok: false, error: new InstanceDied(ReplyErrorCode.cancelled, 'the call was cancelled while it waited for an instance'), use: null });
      });
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
    if (!f || this.closed || f.idle.length > 0 || f.ahead > 0 || f.live >= this.options.maxInstances || this.total >= this.options.maxTotal) return;
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
      f.idleSince.clear();
      // Busy ones too: the worker is about to exit, and what their functions spawned must not outlive it.
      for (const i of f.started) i.end(gone);
    }
  }

  private acquire(f: FunctionInstances, waiter: Waiter): void {
    const warm = f.idle.pop();
    if (warm) {
      f.idleSince.delete(warm);
      clearTimeout(f.expiry.get(warm));
      f.expiry.delete(warm);
      return waiter.grant(warm, false);
    }
    // A call that finds no warm instance starts its own and waits for it (a
    // cold call), as a platform does: were it served by whichever instance
    // freed first, every collision during a slow start would start another
    // instance that no call is charged for. At --max-instances it queues; at
    // the worker's total, it ends another function's longest-idle instance
    // and waits for that to go.
    if (f.live >= this.options.maxInstances) return void f.waiters.push(waiter);
    // So it does for an instance booted ahead that no earlier call waits for.
    if (f.waiters.length < f.ahead) return void f.waiters.push(waiter);
    if (this.total < this.options.maxTotal) return void this.startInto(f, waiter).catch(() => {});
    f.waiters.push(waiter);
    this.room.push(f);
    this.evictIdle();
  }

  /** Ends the instance idle longest, of any function: room for a call waiting at the total. */
  private evictIdle(): void {
    let oldest: { f: FunctionInstances; i: Instance; since: number } | null = null;
    for (const f of this.byName.values()) {
      const i = f.idle[0];
      const since = i && f.idleSince.get(i);
      if (i && since !== undefined && (!oldest || since < oldest.since)) oldest = { f, i, since };
    }
    if (!oldest) return;
    this.takeIdle(oldest.f, oldest.i);
    oldest.i.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'ended for room under --max-instances-total'));
  }

  /** Takes an idle instance off its warm stack and its expiry. */
  private takeIdle(f: FunctionInstances, instance: Instance): void {
    const at = f.idle.indexOf(instance);
    if (at !== -1) f.idle.splice(at, 1);
    f.idleSince.delete(instance);
    clearTimeout(f.expiry.get(instance));
    f.expiry.delete(instance);
  }

  /** An instance ended: the first call waiting for room (whose function may still start one) starts its own. */
  private giveRoom(): void {
    while (this.total < this.options.maxTotal && this.room.length > 0) {
      const f = this.room.shift()!;
      if (f.waiters.length > 0 && f.live < this.options.maxInstances) this.startInto(f).catch(() => {});
    }
  }

  /**
   * Starts one instance of `f` for `owner` (the call that asked for it), or
   * with no owner (pre-warming, a replacement) for the first waiter or the
   * warm stack.
   */
  private startInto(f: FunctionInstances, owner?: Waiter, ahead = false): Promise<Instance> {
    f.live++;
    this.total++;
    const id = `${process.pid}-${f.loaded.name}-${++sequence}`;
    const started = Instance.start({ ...this.options, url: f.loaded.url, instance: id });
    return started.then(
      (instance) => {
        f.started.add(instance);
        if (ahead) f.ahead--;
        this.watchDeath(f, instance);
        // An owner that has given up (its time limit) hands it on through release().
        const waiter = owner ?? f.waiters.shift();
        if (waiter) waiter.grant(instance, true);
        else this.release(f, instance, true);
        return instance;
      },
      (error: InstanceDied) => {
        f.live--;
        this.total--;
        if (ahead) f.ahead--;
        // A module that cannot start fails the call that asked for it, not every queued call.
        (owner ?? f.waiters.shift())?.fail(error);
        this.giveRoom();
        throw error;
      },
    );
  }

  /**
   * Its onDeath, made here and not in startInto: a closure there would keep
   * startInto's whole scope, the owner call's waiter with it, and through it
   * that call's result, for as long as the instance lives (seen: one 8 MiB
   * payload held per instance, issue 30).
   */
  private watchDeath(f: FunctionInstances, instance: Instance): void {
    instance.onDeath = () => this.lost(f, instance);
  }

  /** An instance finished a call (or its start): hand it to the next waiter, else make it the top of the warm stack. */
  private release(f: FunctionInstances, instance: Instance, fresh = false): void {
    if (!instance.alive) return;
    if (this.closed) return instance.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'the worker is closing'));
    const waiter = f.waiters.shift();
    if (waiter) return waiter.grant(instance, fresh);
    // A call of another function waits for room: this idle instance is what it gets.
    if (this.room.some((g) => g !== f && g.waiters.length > 0) && f.live > this.options.minInstances) {
      return instance.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'ended for room under --max-instances-total'));
    }
    f.idle.push(instance);
    f.idleSince.set(instance, performance.now());
    if (f.live > this.options.minInstances) {
      f.expiry.set(
        instance,
        setTimeout(() => instance.end(new InstanceDied(ReplyErrorCode.functionCrashed, 'expired')), this.options.keepWarmMs).unref(),
      );
    }
  }

  private lost(f: FunctionInstances, instance: Instance): void {
    f.started.delete(instance);
    f.live--;
    this.total--;
    this.takeIdle(f, instance);
    if (this.closed) return;
    // A lost instance leaves room: the first waiting call starts its own, and the pre-warmed floor is kept.
    if (this.total < this.options.maxTotal) {
      const waiter = f.waiters.shift();
      if (waiter || f.live < this.options.minInstances) this.startInto(f, waiter).catch(() => {});
    }
    this.giveRoom();
  }
}
