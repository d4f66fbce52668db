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
import { callStamped, type Ran } from './stamped-call.js';

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

/** The answer to a ctx.call the function made. */
export type CalledToHost = { t: 'called'; id: number } & ({ ok: true; value: unknown } | { ok: false; code: string; message: string });

export type ToHost = CallToHost | CalledToHost;

/** A ctx.call, made by the worker on the function's behalf; `c_send` stamped here, when the function made it. */
export interface NestedCall {
  t: 'call';
  id: number;
  fn: string;
  args: Record<string, unknown>;
  step: string | null;
  c_send: bigint;
}

export type HostMessage =
  | { t: 'ready'; loaded: bigint; init: bigint }
  | { t: 'failed'; message: string }
  | NestedCall
  | ({
      t: 'result';
      id: number;
      /** When the answers of the call's ctx.calls reached this thread: [call id, c_recv]. */
      calls?: [number, bigint][];
    } & Answer);

/** A thread talks over its port; a child process over its IPC channel (advanced serialization: bigints and bytes cross). */
const send: (m: HostMessage) => void = parentPort
  ? (m) => parentPort!.postMessage(m)
  : (m) => process.send!(m);
const listen = (handler: (m: ToHost) => void) => (parentPort ? parentPort.on('message', handler) : process.on('message', handler));

/**
 * The worker stops an instance at its deadline by ending it, so no call's
 * signal is ever aborted: one serves them all.
 */
const signal = new AbortController().signal;

/** ctx.calls in flight, by id; and the answers' arrival stamps not yet reported. */
const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let received: [number, bigint][] = [];
let callIds = 0;

function call(name: string, args: Record<string, unknown> = {}, options?: { step?: string }): Promise<unknown> {
  const id = ++callIds;
  send({ t: 'call', id, fn: name, args, step: options?.step ?? null, c_send: now() });
  return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
}

function called(m: CalledToHost): void {
  received.push([m.id, now()]);
  const w = waiting.get(m.id);
  if (!w) return;
  waiting.delete(m.id);
  if (m.ok) w.resolve(m.value);
  else w.reject(Object.assign(new Error(m.message), { name: 'CallFailed', code: m.code }));
}

async function main(setup: HostSetup): Promise<void> {
  let fn: FaasFunction;
  const context: FunctionContext = { signal, assetsDir: setup.assetsDir, timeoutMs: setup.timeoutMs, instance: setup.instance, call };
  try {
    fn = ((await import(setup.url)) as { default: FaasFunction }).default;
    const loaded = now();
    await fn.init?.(context);
    send({ t: 'ready', loaded, init: now() });
  } catch (err) {
    send({ t: 'failed', message: (err as Error)?.message ?? String(err) });
    return;
  }
  listen((m) => {
    if ('t' in m) return called(m);
    const ran = callStamped(() => fn.run(m.args, context));
    if (ran instanceof Promise) void ran.then((r) => answer(m, r, fn.contentType));
    else answer(m, ran, fn.contentType);
  });
}

function answer(m: CallToHost, ran: Ran, contentType: string | undefined): void {
  const calls = received.length > 0 ? received : undefined;
  if (calls) received = [];
  // Bytes a function returns are copied, never transferred: it may keep them (a cache), and a transfer would detach them.
  send({ t: 'result', id: m.id, calls, ...answerOf(ran, m.form, contentType) });
}

if (!isMainThread) void main(workerData as HostSetup);
else if (process.send) {
  // A child process ends with the worker that made it.
  process.on('disconnect', () => process.exit(0));
  void main(JSON.parse(process.argv[2] ?? '{}') as HostSetup);
}
