/**
 * The inside of one instance: a worker thread or a child process with one
 * function loaded. It imports the module, runs the function's optional init,
 * says it is ready with the stamps of both moments, then runs one call at a
 * time as the worker hands them over, stamping t3_start / t3_end here, where
 * the function runs.
 *
 * It also keeps the instance's bounds that only its inside can see: the
 * processes the function spawns die with the call that spawned them (or, for
 * those of its init, with the instance: children.ts), and its external memory
 * (Buffers, ArrayBuffers), which V8's heap limit does not count, is held to
 * the same limit, checked after every call and every 100 ms.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { now } from '../trace/clock.js';
import type { FaasFunction, FunctionContext } from '../contract/function.js';
import { ChildTracker, type Spawned } from './children.js';
import type { ResultForm } from '../rpc/protocol.js';
import { answerOf, type Answer } from './answer.js';
import { callStamped, type Ran } from './stamped-call.js';

export interface HostSetup {
  url: string;
  instance: string;
  assetsDir: string;
  timeoutMs: number;
  /** External memory allowed, in MB (the heap's limit is V8's own). */
  memoryMb: number;
}

/** The answer to a ctx.call the function made. */
export type CalledToHost = { t: 'called'; id: number } & ({ ok: true; value: unknown } | { ok: false; code: string; message: string });

export type ToHost = { t: 'call'; id: number; args: Record<string, unknown>; form: ResultForm } | { t: 'cancel'; id: number } | CalledToHost;
export type CallToHost = Extract<ToHost, { t: 'call' }>;

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
    } & Answer)
  /** A process the function spawned: the worker kills it if it ends the instance first. */
  | { t: 'spawned'; child: Spawned }
  /** External memory above the limit: the worker ends the instance, failing its call `out_of_memory`. */
  | { t: 'memory'; externalBytes: number };

/** A thread talks over its port; a child process over its IPC channel (advanced serialization: bigints and bytes cross). */
const send: (m: HostMessage) => void = parentPort
  ? (m) => parentPort!.postMessage(m)
  : (m) => process.send!(m);
const listen = (handler: (m: ToHost) => void) => (parentPort ? parentPort.on('message', handler) : process.on('message', handler));

const MEMORY_CHECK_MS = 100;

/** A call's context; its signal is made when the function first reads it, and aborted when the call is cancelled. */
class CallContext implements FunctionContext {
  private controller: AbortController | null = null;
  constructor(private readonly setup: HostSetup) {}
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  get assetsDir(): string {
    return this.setup.assetsDir;
  }
  get timeoutMs(): number {
    return this.setup.timeoutMs;
  }
  get instance(): string {
    return this.setup.instance;
  }
  abort(): void {
    (this.controller ??= new AbortController()).abort();
  }
  call(name: string, args?: Record<string, unknown>, options?: { step?: string }): Promise<unknown> {
    return call(name, args, options);
  }
}

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
  const children = new ChildTracker('instance').hook((child) => send({ t: 'spawned', child }));
  const memory = new MemoryCheck(setup.memoryMb);
  let fn: FaasFunction;
  try {
    fn = ((await import(setup.url)) as { default: FaasFunction }).default;
    const loaded = now();
    await fn.init?.(new CallContext(setup));
    send({ t: 'ready', loaded, init: now() });
  } catch (err) {
    send({ t: 'failed', message: (err as Error)?.message ?? String(err) });
    return;
  }
  setInterval(() => void memory.over().then((bytes) => bytes !== null && send({ t: 'memory', externalBytes: bytes })), MEMORY_CHECK_MS).unref();
  let current: { id: number; context: CallContext; cancelled: boolean } | null = null;
  const answer = (m: CallToHost, ran: Ran): void => {
    children.end(current!);
    // Its client left: the result is not copied to the worker, which answers `cancelled` anyway.
    if (current!.cancelled) ran = { ok: false, value: null, error: new Error('cancelled'), t3_start: ran.t3_start, t3_end: ran.t3_end };
    current = null;
    const bytes = memory.quick();
    if (bytes === null) return reply(m, ran, fn.contentType);
    // Over by the cheap count: confirmed (after a collection) before the call is failed for it.
    void memory.over().then((confirmed) => (confirmed === null ? reply(m, ran, fn.contentType) : send({ t: 'memory', externalBytes: confirmed })));
  };
  listen((m) => {
    if (m.t === 'called') return called(m);
    if (m.t === 'cancel') {
      if (current?.id === m.id) {
        current.cancelled = true;
        current.context.abort();
      }
      return;
    }
    current = { id: m.id, context: new CallContext(setup), cancelled: false };
    children.begin(current);
    const ran = callStamped(() => fn.run(m.args, current!.context));
    if (ran instanceof Promise) void ran.then((r) => answer(m, r));
    else answer(m, ran);
  });
}

function reply(m: CallToHost, ran: Ran, contentType: string | undefined): void {
  const calls = received.length > 0 ? received : undefined;
  if (calls) received = [];
  // Bytes a function returns are copied, never transferred: it may keep them (a cache), and a transfer would detach them.
  send({ t: 'result', id: m.id, calls, ...answerOf(ran, m.form, contentType) });
}

/**
 * The instance's external memory against its limit. V8's own count is cheap
 * (under a µs) but counts buffers already dropped until a collection frees
 * them: over the limit by it, a full collection decides.
 */
class MemoryCheck {
  private readonly limit: number;
  private gc: (() => void) | null = null;
  constructor(memoryMb: number) {
    this.limit = memoryMb * 1024 * 1024;
  }

  /** The external bytes when V8's count is over the limit, else null. */
  quick(): number | null {
    const bytes = getHeapStatistics().external_memory;
    return bytes > this.limit ? bytes : null;
  }

  /** The external bytes when they are over the limit after a collection, else null. */
  async over(): Promise<number | null> {
    if (this.quick() === null) return null;
    if (!this.gc) {
      setFlagsFromString('--expose-gc');
      this.gc = runInNewContext('gc') as () => void;
    }
    this.gc();
    // Backing stores are freed off the thread: their count falls a moment later.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return this.quick();
  }
}

if (!isMainThread) void main(workerData as HostSetup);
else if (process.send) {
  // A child process ends with the worker that made it, and its process group (what its function spawned) with it.
  process.on('disconnect', () => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(0);
    }
  });
  void main(JSON.parse(process.argv[2] ?? '{}') as HostSetup);
}
