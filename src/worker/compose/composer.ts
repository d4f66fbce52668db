/**
 * Nested calls: a function's `ctx.call(name, args)`, and a workflow's steps
 * when the worker coordinates it. Every nested call gets its id (its
 * parent's and a counter), its depth, what is left of its parent's time
 * limit, and the workflows on its path; it is refused at once when too deep,
 * when it would run a workflow already on its path, when the worker has
 * --max-nested-calls in flight, or when no time is left; and it answers by
 * its parent's deadline whatever the callee does. How it travels (inside
 * the worker, over the RPC link, through a gateway) is the transport's.
 * docs/composition.md, "Calling other functions", is the user's description.
 */
import { performance } from 'node:perf_hooks';
import { childId, CompositionErrorCode, refuseNested, type CallMode, type Nesting } from '../../contract/composition.js';
import { ReplyErrorCode } from '../../rpc/protocol.js';
import { now } from '../../trace/clock.js';
import type { OutgoingCall } from '../../trace/records.js';
import { traceIdFor } from '../../trace/trace-context.js';

/** What a call needs to make calls of its own: its id, trace and nesting (an RPC call message is one). */
export interface CallOrigin {
  rid: string;
  fn: string;
  /** The request's W3C trace id, when known. */
  tp?: string;
  nest?: Nesting;
}

/** A nested call's outcome, never a rejection: the value, or the callee's error code and message. */
export type Answer = { ok: true; value: unknown } | { ok: false; code: string; message: string };

/** How nested calls travel: each transport sends one call and answers it. */
export interface Transport {
  readonly mode: CallMode;
  call(id: string, fn: string, args: Record<string, unknown>, traceId: string, nesting: Nesting): Promise<Answer>;
  close?(): Promise<void> | void;
}

/** What ctx.call rejects with: the callee's error code, as a gateway would have answered it. */
export class CallFailed extends Error {
  override name = 'CallFailed';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const RUN = Symbol('faasbench.nested');
interface Running {
  /** Calls made so far: the next one's counter. */
  made: number;
  calls: OutgoingCall[];
  /** The call has answered: later ctx.calls are refused. */
  done: boolean;
}
type Tracked = CallOrigin & { [RUN]?: Running };

/** The calls a call made, for its record; null when it made none. */
export function callsOf(origin: CallOrigin): readonly OutgoingCall[] | null {
  return (origin as Tracked)[RUN]?.calls ?? null;
}

/** The call has answered: calls it makes from now on are refused (they would outlive it). */
export function callDone(origin: CallOrigin): void {
  const run = (origin as Tracked)[RUN];
  if (run) run.done = true;
  // A property, not a WeakMap entry (see worker.ts): nothing to clear.
}

export interface ComposerOptions {
  transport: Transport;
  maxDepth: number;
  maxNestedCalls: number;
  isWorkflow: (name: string) => boolean;
}

export class Composer {
  private inflight = 0;

  constructor(private readonly options: ComposerOptions) {}

  get mode(): CallMode {
    return this.options.transport.mode;
  }

  /** Nested calls this worker has in flight. */
  get load(): number {
    return this.inflight;
  }

  /**
   * Makes one nested call from `origin`, which must answer by `deadlineMs`
   * (performance.now() time). `cSend`: when the call was made, if it was
   * made elsewhere (an instance's thread). Returns its record, filled in as
   * it goes, and its answer.
   */
  call(origin: CallOrigin, deadlineMs: number, fn: string, args: Record<string, unknown>, step: string | null = null, cSend?: bigint): { record: OutgoingCall; answer: Promise<Answer> } {
    const c_send = cSend ?? now();
    const tracked = origin as Tracked;
    const run = (tracked[RUN] ??= { made: 0, calls: [], done: false });
    const id = childId(origin.rid, ++run.made);
    const record: OutgoingCall = { id, fn, via: this.mode, step, error: null, c_send, c_recv: null };
    run.calls.push(record);
    const depth = (origin.nest?.depth ?? 0) + 1;
    const above = origin.nest?.workflows ?? [];
    const workflows = this.options.isWorkflow(origin.fn) ? [...above, origin.fn] : above;
    const budgetMs = deadlineMs - performance.now();
    const nesting: Nesting = { parent: origin.rid, depth, budgetMs, workflows };
    const refused =
      (run.done ? { code: ReplyErrorCode.functionError, message: `${origin.fn} called ${fn} after its own call had answered` } : null) ??
      refuseNested(fn, nesting, { maxDepth: this.options.maxDepth, isWorkflow: this.options.isWorkflow }) ??
      (budgetMs < 1 ? { code: ReplyErrorCode.functionTimeout, message: `no time left in ${origin.rid}'s limit to call ${fn}` } : null) ??
      (this.inflight >= this.options.maxNestedCalls
        ? { code: CompositionErrorCode.tooManyCalls, message: `the worker has ${this.inflight} nested calls in flight, its limit (--max-nested-calls); ${fn} was not called` }
        : null);
    if (refused) {
      record.error = refused.code;
      record.c_recv = now();
      return { record, answer: Promise.resolve({ ok: false, ...refused }) };
    }
    this.inflight++;
    const traceId = origin.tp ?? traceIdFor(origin.rid);
    const answer = new Promise<Answer>((resolve) => {
      let settled = false;
      const settle = (a: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight--;
        record.c_recv = now();
        record.error = a.ok ? null : a.code;
        resolve(a);
      };
      // The answer comes by the parent's deadline, whatever the callee or the link does.
      const timer = setTimeout(
        () => settle({ ok: false, code: ReplyErrorCode.functionTimeout, message: `${fn} did not answer within the ${Math.floor(budgetMs)} ms left of ${origin.rid}'s limit` }),
        budgetMs,
      );
      this.options.transport.call(id, fn, args, traceId, nesting).then(settle, (err: unknown) =>
        settle({ ok: false, code: ReplyErrorCode.functionError, message: `the call of ${fn} failed: ${err instanceof Error ? err.message : String(err)}` }),
      );
    });
    return { record, answer };
  }

  /** ctx.call: the value, or a CallFailed with the callee's code. */
  invoke(origin: CallOrigin, deadlineMs: number, fn: string, args: Record<string, unknown>, step: string | null = null): Promise<unknown> {
    return this.call(origin, deadlineMs, fn, args, step).answer.then((a) => (a.ok ? a.value : Promise.reject(new CallFailed(a.code, a.message))));
  }

  async close(): Promise<void> {
    await this.options.transport.close?.();
  }
}

/** The error an answer stands for, thrown where a caller wants a rejection. */
export function failure(a: Extract<Answer, { ok: false }>): CallFailed {
  return new CallFailed(a.code, a.message);
}
