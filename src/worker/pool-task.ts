/**
 * Runs inside a worker thread of the pool: imports the function module once
 * and runs calls of it. A thread is sacrificed, not the worker process, when a
 * function loops, exhausts its memory or calls process.exit.
 */
import type { FaasFunction, FunctionContext } from '../contract/function.js';
import { ChildTracker } from './children.js';
import type { ResultForm } from '../rpc/protocol.js';
import { answerOf, type Answer } from './answer.js';
import { callStamped } from './stamped-call.js';

export interface PoolTask {
  url: string;
  args: Record<string, unknown>;
  assetsDir: string;
  timeoutMs: number;
  instance: string;
  form: ResultForm;
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

/** Bytes a function returns are copied, never transferred: it may keep them (a cache), and a transfer would detach them. */
export default async function runTask(task: PoolTask): Promise<Answer> {
  const fn = await load(task.url);
  const context: FunctionContext = { signal, assetsDir: task.assetsDir, timeoutMs: task.timeoutMs, instance: task.instance, call };
  children.begin(task);
  try {
    return answerOf(await callStamped(() => fn.run(task.args, context)), task.form, fn.contentType);
  } finally {
    children.end(task);
  }
}
