/**
 * Runs inside a worker thread of the pool: imports the function module once
 * and runs calls of it. A thread is sacrificed, not the worker process, when a
 * function loops, exhausts its memory or calls process.exit.
 */
import type { FaasFunction, FunctionContext } from '../contract/function.js';
import { ChildTracker } from './children.js';
import { callStamped, type Ran } from './stamped-call.js';

export interface PoolTask {
  url: string;
  args: Record<string, unknown>;
  assetsDir: string;
  timeoutMs: number;
  instance: string;
}

/**
 * What a task answers. A thrown error crosses the thread boundary as its
 * name and message (a structured clone keeps neither the class nor the name),
 * with the stamps, which only this thread can take.
 */
export interface PoolResult {
  ok: boolean;
  value: unknown;
  error: { name: string; message: string } | null;
  t3_start: bigint;
  t3_end: bigint;
}

const modules = new Map<string, Promise<FaasFunction>>();

function load(url: string): Promise<FaasFunction> {
  let fn = modules.get(url);
  if (!fn) {
    fn = import(url).then((m: { default: FaasFunction }) => m.default);
    modules.set(url, fn);
  }
  return fn;
}

/**
 * The pool enforces the time limit by terminating the thread, so no call's
 * signal is ever aborted: one serves them all (making one costs µs).
 */
const signal = new AbortController().signal;

/**
 * What a task spawns dies with it (one task at a time per thread); what is
 * spawned between tasks, at once. The worker's thread is told too: it kills
 * them when the pool terminates this thread at the time limit.
 */
const children = new ChildTracker('kill').tell();

/** A pool thread has no way back to the worker while its task runs: ctx.call is refused, clearly. */
const call = (): Promise<never> =>
  Promise.reject(
    Object.assign(new Error("ctx.call is not available to a mode: 'pool' function under --isolation inline; run it in an instance (--isolation thread or process) or inline"), {
      name: 'CallFailed',
      code: 'function_error',
    }),
  );

export default async function runTask(task: PoolTask): Promise<unknown> {
  const fn = await load(task.url);
  const context: FunctionContext = { signal, assetsDir: task.assetsDir, timeoutMs: task.timeoutMs, instance: task.instance, call };
  children.begin(task);
  try {
    return answer(await callStamped(() => fn.run(task.args, context)));
  } finally {
    children.end(task);
  }
}

function answer(ran: Ran): unknown {
  const { ok, value, t3_start, t3_end } = ran;
  if (!ok) {
    const e = ran.error instanceof Error ? ran.error : new Error(String(ran.error));
    const result: PoolResult = { ok, value: null, error: { name: e.name, message: e.message }, t3_start, t3_end };
    return result;
  }
  // Copied, never transferred: a function may keep the bytes it returned (a cache), and a transfer would detach them.
  const result: PoolResult = { ok, value, error: null, t3_start, t3_end };
  return result;
}
