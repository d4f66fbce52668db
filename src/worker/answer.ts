/**
 * What a function's run comes to, made in the thread (or process) that ran
 * it: in the form its call's connection takes (rpc/result-form.ts). In body
 * form the value's JSON text is made here, once, after t3_end: a thread
 * sends a string, not a graph of objects to clone, and the worker's own
 * loop neither encodes nor decodes it.
 */
import type { ResultForm } from '../rpc/protocol.js';
import { bodyOf, OCTET_STREAM, type Body } from '../rpc/result-form.js';
import type { Ran } from './stamped-call.js';

/** Structured-cloneable: it crosses from a pool thread or an instance as it is. */
export interface Answer {
  ok: boolean;
  /** Value form: the value. */
  value?: unknown;
  /** Body form: JSON text or bytes. */
  body?: Body;
  /** Of a body, or of a binary value. */
  ctype?: string;
  /**
   * A thrown error as its name and message (a structured clone keeps neither
   * the class nor the name), and its code when a string: a nested call's
   * failure (CallFailed) keeps the callee's code.
   */
  error: { name: string; message: string; code?: string } | null;
  t3_start: bigint;
  t3_end: bigint;
}

/** The name of an error from turning a value into its body: the call fails, not the function. */
export const RESULT_ERROR = 'ResultError';

export function answerOf(ran: Ran, form: ResultForm, contentType: string | undefined): Answer {
  const { t3_start, t3_end } = ran;
  if (!ran.ok) {
    const e = ran.error instanceof Error ? ran.error : new Error(String(ran.error));
    const code = (e as { code?: unknown }).code;
    return { ok: false, error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) }, t3_start, t3_end };
  }
  const value = ran.value;
  if (form === 'value') {
    const ctype = value instanceof Uint8Array ? (contentType ?? OCTET_STREAM) : undefined;
    return { ok: true, value, ctype, error: null, t3_start, t3_end };
  }
  try {
    const { body, ctype } = bodyOf(value, contentType);
    return { ok: true, body, ctype, error: null, t3_start, t3_end };
  } catch (err) {
    return { ok: false, error: { name: RESULT_ERROR, message: `result not serialisable: ${(err as Error).message}` }, t3_start, t3_end };
  }
}
