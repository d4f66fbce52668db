/**
 * From a run to a reply's outcome, the same for every way of running a call
 * (inline-runner.ts, pool-runner.ts, instance-runner.ts): what a strategy
 * offers the executor, and how a failure is named.
 */
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import type { CallOutcome } from '../rpc/server.js';
import { now } from '../trace/clock.js';
import type { OutgoingCall } from '../trace/records.js';
import { RESULT_ERROR, type Answer } from './answer.js';
import type { Answer as NestedAnswer, CallOrigin } from './compose/composer.js';
import type { InstanceUse } from './instances.js';
import type { LoadedFunction } from './registry.js';
import type { Cancel } from '../rpc/cancel.js';

/** A call's outcome, and the instance that ran it (for its record). */
export interface Executed {
  outcome: CallOutcome;
  instance: InstanceUse | null;
}

/** A call's own limit: the worker's, or less when a parent left it less (a nested call never outlives its parent). */
export interface Limit {
  ms: number;
  /** performance.now() time at which it ends. */
  deadline: number;
}

/** How to run one call. */
export interface RunSpec {
  /** How its result travels: its connection's form; a nested call's is 'value' (its parent consumes it). */
  form: ResultForm;
  limit: Limit;
  /** The call's id and nesting, for its ctx.call; absent for a call from outside the worker's dispatch. */
  origin?: CallOrigin;
  /** Fires when its client left: a call still waiting gives up its place, one running has its signal aborted (a pool call runs on). */
  cancel?: Cancel;
}

/** What ctx.call needs: the composer's call() (compose/composer.ts). */
export interface NestedCalls {
  call(origin: CallOrigin, deadlineMs: number, fn: string, args: Record<string, unknown>, step: string | null, cSend?: bigint): { record: OutgoingCall; answer: Promise<NestedAnswer> };
}

/** One way of running calls. Never rejects: every failure is an outcome. */
export interface Runner {
  run(loaded: LoadedFunction, args: Record<string, unknown>, spec: RunSpec): Promise<Executed>;
  close(): Promise<void>;
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

/** The limits a failure's message names. */
export interface Limits {
  timeoutMs: number;
  memoryMb: number;
}

export function outcomeOf(a: Answer, name: string, limits: Limits): CallOutcome {
  const { t3_start, t3_end } = a;
  if (!a.ok) return { err: classify(a.error, name, limits), t3_start, t3_end };
  if (a.body !== undefined) return { body: a.body, ctype: a.ctype, t3_start, t3_end };
  return { result: a.value ?? null, ctype: a.ctype, t3_start, t3_end };
}

/** `limitMs`: the call's own limit (a nested call's may be less than the worker's). */
export function timedOut(name: string, t3_start: bigint, limitMs: number): CallOutcome {
  const message = `function ${name} ran past its limit of ${limitMs} ms`;
  return { err: { code: ReplyErrorCode.functionTimeout, message }, t3_start, t3_end: now() };
}

/** A failure's code and message: an error thrown, or one a pool thread's end was rejected with. */
export function classify(err: unknown, name: string, limits: Limits): { code: string; message: string } {
  const e = (typeof err === 'object' && err !== null ? err : new Error(String(err))) as { name?: string; message?: string; code?: string };
  const message = String(e.message);
  if (e.name === 'InputError') return { code: ReplyErrorCode.badInput, message };
  if (e.name === RESULT_ERROR) return { code: ReplyErrorCode.functionError, message };
  // A nested call's failure the function let escape: the callee's error, as it was.
  if (e.name === 'CallFailed' && typeof e.code === 'string') return { code: e.code, message };
  if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { code: ReplyErrorCode.outOfMemory, message: `function ${name} exceeded its memory limit of ${limits.memoryMb} MB` };
  }
  if (/worker exited with code/.test(message)) {
    return { code: ReplyErrorCode.functionCrashed, message: `function ${name} ended its thread (${message})` };
  }
  return { code: ReplyErrorCode.functionError, message: `function ${name} failed: ${message}` };
}

/** Under --isolation inline a function has one instance for the worker's life: its module, loaded at start. */
export function inlineInstance(name: string): string {
  return `${process.pid}-${name}-inline`;
}
