/**
 * Every error the gateway answers, in one table: the five adapters answer
 * identically because they all answer from here. Codes are part of the
 * public contract (docs/commands.md, "Errors").
 */
import { JSON_CTYPE, ReplyErrorCode } from '../rpc/protocol.js';
import { CompositionErrorCode } from './composition.js';

export const ERRORS = {
  bad_parameter: 400,
  bad_input: 400,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  header_too_large: 431,
  internal_error: 500,
  worker_unavailable: 502,
  function_error: 502,
  function_crashed: 502,
  out_of_memory: 502,
  unknown_function: 502,
  result_too_large: 502,
  function_timeout: 504,
  uploads_full: 503,
  overloaded: 503,
  gateway_timeout: 504,
  /** Never answered: the client left first (nginx's 499). In records and metrics only. */
  cancelled: 499,
  // Nested calls (contract/composition.ts): refused before they ran.
  call_depth_exceeded: 508,
  call_cycle: 508,
  too_many_calls: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

// Every code a function's reply can carry is one the gateway answers with its
// own status: a compile error otherwise.
ReplyErrorCode satisfies Record<string, ErrorCode>;
CompositionErrorCode satisfies Record<string, ErrorCode>;

/** Every error answer is JSON, as are the results that are not bytes. */
/** Every JSON answer's content type, the worker's JSON bodies included. */
export const JSON_TYPE = JSON_CTYPE;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
