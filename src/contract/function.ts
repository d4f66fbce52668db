/**
 * The function contract. A function is one ES module in the functions
 * directory; its file name (without extension) is the function's name and its
 * default export is a `FaasFunction`. Documented in docs/functions.md; user
 * modules may be plain JavaScript.
 */
export interface FunctionContext {
  /** Aborted when the call's time limit passes; long waits should honour it. */
  signal: AbortSignal;
  /** The functions directory's `assets/` folder: the only files a function reads. */
  assetsDir: string;
  /** The call's time limit in ms (the worker's --timeout-ms): for native work
   *  that cannot watch the signal but can be given a deadline of its own. */
  timeoutMs: number;
  /** The id of the instance running the call (unique within the worker's host). */
  instance: string;
  /**
   * Calls another function (or workflow) by name, as a call from the gateway
   * would: the same errors and limits, and at most what is left of this
   * call's time limit. Resolves the callee's result; rejects with an Error
   * whose `code` is the callee's error code (`bad_input`, `function_error`,
   * `call_depth_exceeded`, …); let it escape and this call fails with it.
   * `step` names the call in the records. How the call travels is the
   * worker's --call-mode. Not available to `mode: 'pool'` functions.
   */
  call(name: string, args?: Record<string, unknown>, options?: { step?: string }): Promise<unknown>;
}

export interface FaasFunction {
  /**
   * Where the function runs under `--isolation inline` (with thread or
   * process isolation every function runs in an instance of its own).
   * `inline` (default): on the worker's event loop;
   * right for functions that wait (timers, I/O) or hand work to native threads.
   * `pool`: in a worker thread of a pool sized to the cores; right for CPU-bound
   * JavaScript, which would otherwise stall every other call.
   */
  mode?: 'inline' | 'pool';
  /** Content type of a binary (Uint8Array) result. */
  contentType?: string;
  /**
   * Runs once when an instance starts, before its first call: the cold
   * start's own work (connections, caches). Its end is the record's
   * `cold_init` stamp. Not run in `--isolation inline`.
   */
  init?(context: FunctionContext): unknown;
  /**
   * Runs one call. Returns a msgpack-serialisable value (answered as JSON) or
   * a Uint8Array (answered as bytes of `contentType`). Throw an `InputError`
   * (or any Error whose name is 'InputError') for bad arguments: the caller
   * then gets a 400 instead of a 502.
   */
  run(args: Record<string, unknown>, context: FunctionContext): unknown;
}

export class InputError extends Error {
  override name = 'InputError';
}
