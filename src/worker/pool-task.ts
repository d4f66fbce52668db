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
  timeoutMs: number;
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
  // The pool enforces the time limit by terminating the thread; the signal is
  // here for functions that cooperate.
  const result = await fn.run(task.args, { signal: new AbortController().signal, assetsDir: task.assetsDir, timeoutMs: task.timeoutMs });
  // Hand binary results over without a copy.
  return result instanceof Uint8Array ? Piscina.move(result) : result;
}
