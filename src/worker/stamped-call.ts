/**
 * Runs a function and stamps t3_start / t3_end immediately around it, in the
 * thread that runs it: the one place both the inline path and the pool's
 * threads take the `function` stage from. A plain return value is stamped
 * synchronously, so dispatching the calls after it cannot fall inside its
 * stage; a promise is stamped in the first reaction to its settling.
 */
import { now } from '../trace/clock.js';

export interface Ran {
  /** Set when the function returned (or its promise fulfilled). */
  ok: boolean;
  value: unknown;
  error: unknown;
  t3_start: bigint;
  t3_end: bigint;
}

/** `t3_start` is taken by the caller when it must know it before the function settles. */
export function callStamped(run: () => unknown, t3_start: bigint = now()): Ran | Promise<Ran> {
  let value: unknown;
  try {
    value = run();
  } catch (error) {
    return { ok: false, value: undefined, error, t3_start, t3_end: now() };
  }
  if (!isThenable(value)) return { ok: true, value, error: undefined, t3_start, t3_end: now() };
  return Promise.resolve(value).then(
    (v): Ran => ({ ok: true, value: v, error: undefined, t3_start, t3_end: now() }),
    (error: unknown): Ran => ({ ok: false, value: undefined, error, t3_start, t3_end: now() }),
  );
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}
