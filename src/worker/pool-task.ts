/**
 * Runs inside a worker thread of the pool: imports the function module once
 * and runs calls of it. A thread is sacrificed, not the worker process, when a
 * function loops, exhausts its memory or calls process.exit.
 */
import { Piscina } from 'piscina';
import type { FaasFunction } from './contract.js';

export interface PoolTask {
  url: string;
  args: Record<string, unknown>;
  assetsDir: string;
}

/**
 * An error crosses the thread boundary by structured clone, which keeps its
 * message and `cause` but turns every name it does not know (`InputError`)
 * into 'Error'. The name therefore travels in the cause.
 */
interface ThreadErrorCause {
  thrownName: string;
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

export default async function runTask(task: PoolTask): Promise<unknown> {
  const fn = await load(task.url);
  let result: unknown;
  try {
    // The pool enforces the time limit by terminating the thread; the signal is
    // here for functions that cooperate.
    result = await fn.run(task.args, { signal: new AbortController().signal, assetsDir: task.assetsDir });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const cause: ThreadErrorCause = { thrownName: e.name };
    throw new Error(e.message, { cause });
  }
  // Hand binary results over without a copy.
  return result instanceof Uint8Array ? Piscina.move(result) : result;
}

/** The name an error was thrown with, on either side of the thread boundary. */
export function thrownName(err: Error): string {
  const cause = err.cause as Partial<ThreadErrorCause> | undefined;
  return typeof cause?.thrownName === 'string' ? cause.thrownName : err.name;
}
