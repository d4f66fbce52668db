/**
 * Nested calls inside the worker: the callee goes through the worker's own
 * dispatch (its workflows, instances, pool or inline) as a call from the
 * gateway would, and the worker writes its record. t3_recv is when the call
 * was handed to that dispatch and t3_send when its outcome came back: the
 * hop's `link` is then the turn it waited for and, from an instance, the
 * messages between threads.
 */
import type { Nesting } from '../../contract/composition.js';
import type { CallOutcome } from '../../rpc/server.js';
import { now } from '../../trace/clock.js';
import type { Answer, CallOrigin, Transport } from './composer.js';

/** What the local transport needs of the worker. */
export interface LocalDispatch<E extends { outcome: CallOutcome }> {
  /** The worker's one path of every call (workflows included). */
  run(origin: CallOrigin, args: Record<string, unknown>): Promise<E>;
  /**
   * Waits for a turn: a nested call never starts on its caller's stack, so
   * that an inline function stopped by the watchdog unwinds from a message
   * callback, as the worker's calls always do.
   */
  turn(next: () => void): void;
  /** Writes the callee's record and metrics. */
  record(origin: CallOrigin, executed: E, t3_recv: bigint, t3_send: bigint): void;
  /** The outcome of the inline call the watchdog just stopped, or null. */
  takeInterrupted(): E | null;
}

export function answerOf(o: CallOutcome): Answer {
  return o.err ? { ok: false, code: o.err.code, message: o.err.message } : { ok: true, value: o.result ?? null };
}

export class LocalTransport<E extends { outcome: CallOutcome }> implements Transport {
  readonly mode = 'local' as const;
  /** Answers the call being dispatched when the watchdog cut it short; null outside a dispatch. */
  private cut: (() => void) | null = null;

  constructor(private readonly dispatch: LocalDispatch<E>) {}

  call(id: string, fn: string, args: Record<string, unknown>, traceId: string, nesting: Nesting): Promise<Answer> {
    return new Promise((resolve) => {
      this.dispatch.turn(() => {
        const origin: CallOrigin = { rid: id, fn, tp: traceId, nest: nesting };
        const t3_recv = now();
        const done = (e: E) => {
          const t3_send = now();
          this.dispatch.record(origin, e, t3_recv, t3_send);
          resolve(answerOf(e.outcome));
        };
        this.cut = () => {
          const e = this.dispatch.takeInterrupted();
          if (e) done(e);
        };
        const running = this.dispatch.run(origin, args);
        this.cut = null;
        void running.then(done);
      });
    });
  }

  /**
   * The watchdog stopped an inline function: when it was a nested call being
   * dispatched here, answer it (its frames, ours included, are gone). True
   * when it was.
   */
  resumeInterrupted(): boolean {
    const cut = this.cut;
    if (!cut) return false;
    this.cut = null;
    cut();
    return true;
  }
}
