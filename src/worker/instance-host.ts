/**
 * The inside of one instance: a worker thread or a child process with one
 * function loaded. It imports the module, runs the function's optional init,
 * says it is ready with the stamps of both moments, then runs one call at a
 * time as the worker hands them over, stamping t3_start / t3_end here, where
 * the function runs.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { now } from '../trace/clock.js';
import type { FaasFunction, FunctionContext } from '../contract/function.js';
import type { ResultForm } from '../rpc/protocol.js';
import { answerOf, type Answer } from './answer.js';
import { callStamped } from './stamped-call.js';

export interface HostSetup {
  url: string;
  instance: string;
  assetsDir: string;
  timeoutMs: number;
}

export interface CallToHost {
  id: number;
  args: Record<string, unknown>;
  form: ResultForm;
}

export type HostMessage =
  | { t: 'ready'; loaded: bigint; init: bigint }
  | { t: 'failed'; message: string }
  | ({ t: 'result'; id: number } & Answer);

/** A thread talks over its port; a child process over its IPC channel (advanced serialization: bigints and bytes cross). */
const send: (m: HostMessage) => void = parentPort
  ? (m) => parentPort!.postMessage(m)
  : (m) => process.send!(m);
const listen = (handler: (m: CallToHost) => void) => (parentPort ? parentPort.on('message', handler) : process.on('message', handler));

/**
 * The worker stops an instance at its deadline by ending it, so no call's
 * signal is ever aborted: one serves them all.
 */
const signal = new AbortController().signal;

async function main(setup: HostSetup): Promise<void> {
  let fn: FaasFunction;
  const context: FunctionContext = { signal, assetsDir: setup.assetsDir, timeoutMs: setup.timeoutMs, instance: setup.instance };
  try {
    fn = ((await import(setup.url)) as { default: FaasFunction }).default;
    const loaded = now();
    await fn.init?.(context);
    send({ t: 'ready', loaded, init: now() });
  } catch (err) {
    send({ t: 'failed', message: (err as Error)?.message ?? String(err) });
    return;
  }
  listen((call) => {
    const ran = callStamped(() => fn.run(call.args, context));
    // Bytes a function returns are copied, never transferred: it may keep them (a cache), and a transfer would detach them.
    if (ran instanceof Promise) void ran.then((r) => send({ t: 'result', id: call.id, ...answerOf(r, call.form, fn.contentType) }));
    else send({ t: 'result', id: call.id, ...answerOf(ran, call.form, fn.contentType) });
  });
}

if (!isMainThread) void main(workerData as HostSetup);
else if (process.send) {
  // A child process ends with the worker that made it.
  process.on('disconnect', () => process.exit(0));
  void main(JSON.parse(process.argv[2] ?? '{}') as HostSetup);
}
