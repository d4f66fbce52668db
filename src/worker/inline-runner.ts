/**
 * Inline calls (`--isolation inline`, functions of mode `inline`): run on the
 * worker's own event loop, the floor under every isolation mode, guarded by
 * the inline watchdog against a function that never returns.
 */
import type { FunctionContext } from '../contract/function.js';
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import { answerOf } from './answer.js';
import { CallFailed, type CallOrigin } from './compose/composer.js';
import { InlineWatchdog } from './inline-watchdog.js';
import { inlineInstance, outcomeOf, timedOut, type Executed, type Limits, type NestedCalls, type Runner, type RunSpec } from './outcome.js';
import type { LoadedFunction } from './registry.js';
import { callStamped, type Ran } from './stamped-call.js';

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

export class InlineRunner implements Runner {
  private readonly watchdog: InlineWatchdog | null;
  /** The synchronous call running now (null outside one), for takeInterrupted(). */
  private running: LoadedFunction | null = null;
  private runningStart = 0n;
  /** Whether the last call left a promise that settles on this thread. */
  settlesHere = false;

  /** `watch`: guard synchronous calls with the watchdog; `onInterrupted` runs when it stopped one; `nested` makes ctx.call's calls. */
  constructor(
    private readonly assetsDir: string,
    private readonly limits: Limits,
    watch: boolean,
    onInterrupted: () => void,
    private readonly nested: NestedCalls | undefined,
  ) {
    this.watchdog = watch ? new InlineWatchdog(limits.timeoutMs, onInterrupted) : null;
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
   * The call the watchdog terminated, answered as timed out, or null when
   * none was. Its frames were unwound without `finally`: what they would have
   * undone (the running call) is undone here.
   */
  takeInterrupted(): Executed | null {
    const loaded = this.running;
    if (!loaded) return null;
    this.running = null;
    this.watchdog?.reset();
    return { outcome: timedOut(loaded.name, this.runningStart, this.limits.timeoutMs), instance: { instance: inlineInstance(loaded.name), cold: null } };
  }

  run(loaded: LoadedFunction, args: Record<string, unknown>, { form, limit, origin, cancel }: RunSpec): Promise<Executed> {
    const instance = { instance: inlineInstance(loaded.name), cold: null };
    const context = new CallContext(this.assetsDir, limit.ms, instance.instance, origin, limit.deadline, this.nested);
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
    this.settlesHere = ran instanceof Promise;
    if (!(ran instanceof Promise)) return Promise.resolve({ outcome: this.outcome(loaded, ran, form), instance });
    // Only a function that waits can be stopped at its limit (a synchronous
    // one has already returned): the timer exists for those alone.
    return new Promise<Executed>((resolve) => {
      const timer = setTimeout(() => {
        resolve({ outcome: timedOut(loaded.name, t3_start, limit.ms), instance });
        context.abort();
      }, limit.ms);
      void ran.then((r) => {
        clearTimeout(timer);
        resolve({ outcome: this.outcome(loaded, r, form), instance });
      });
    });
  }

  async close(): Promise<void> {
    await this.watchdog?.close();
  }

  private outcome(loaded: LoadedFunction, ran: Ran, form: ResultForm): CallOutcome {
    return outcomeOf(answerOf(ran, form, loaded.fn.contentType), loaded.name, this.limits);
  }
}
