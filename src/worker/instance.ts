/**
 * One instance seen from the worker: a worker thread or a child process
 * running instance-host.js with one function loaded. It runs one call at a
 * time; the worker ends it at a call's deadline, at the end of its keep-warm,
 * or finds it dead (exit, heap limit), and only this instance is lost.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ReplyErrorCode, type ResultForm } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import type { Answer } from './compose/composer.js';
import { killTrees, type Spawned } from './children.js';
import type { HostMessage, HostSetup, NestedCall, ToHost } from './instance-host.js';

export type Isolation = 'thread' | 'process';

export interface ColdStamps {
  /** The worker asked for the thread or process. */
  spawn: bigint;
  /** The function's module was imported in it. */
  loaded: bigint;
  /** Its init() returned (= loaded when it has none). */
  init: bigint;
}

export interface InstanceSpec extends HostSetup {
  isolation: Isolation;
}

export type HostResult = Extract<HostMessage, { t: 'result' }>;

/** A ctx.call the instance's function made: `reply` sends the answer back to it. */
export type NestedFromHost = (call: NestedCall, reply: (a: Answer) => void) => void;

/** Why an instance stopped answering: an RPC error code and a message. */
export class InstanceDied extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const HOST = new URL('./instance-host.js', import.meta.url);
const STDERR_TAIL = 4096;

/** What both kinds of instance offer the worker. */
interface Channel {
  post(message: ToHost): void;
  end(): void;
}

export class Instance {
  readonly cold: ColdStamps;
  private readonly channel: Channel;
  private pending: { id: number; resolve: (r: HostResult) => void; reject: (e: InstanceDied) => void; onCall?: NestedFromHost } | null = null;
  private nextId = 0;
  private deadReason: InstanceDied | null = null;
  /** Set by the owner: told once, when the instance is gone for any reason. */
  onDeath: (why: InstanceDied) => void = () => {};
  /** Set while an ending was asked for, so its exit is not read as a crash. */
  private ending: InstanceDied | null = null;
  /** Processes its function spawned: killed when it ends, whatever its inside did about them. */
  private readonly children: Spawned[] = [];

  private constructor(
    readonly id: string,
    cold: ColdStamps,
    channel: Channel,
  ) {
    this.cold = cold;
    this.channel = channel;
  }

  /** Starts an instance; resolves once its module is loaded and init done, rejects when it cannot start. */
  static start(spec: InstanceSpec): Promise<Instance> {
    const spawn = now();
    return new Promise<Instance>((resolve, reject) => {
      let instance: Instance | null = null;
      let stderr = '';
      // Spawned during the module's load or init, before the instance exists.
      const early: Spawned[] = [];
      const onMessage = (m: HostMessage) => {
        if (m.t === 'ready') {
          instance = new Instance(spec.instance, { spawn, loaded: m.loaded, init: m.init }, channel);
          instance.children.push(...early);
          resolve(instance);
        } else if (m.t === 'failed') {
          channel.end();
          killTrees(early);
          reject(new InstanceDied(ReplyErrorCode.functionError, `function instance ${spec.instance} failed to start: ${m.message}`));
        } else if (m.t === 'spawned') {
          (instance?.children ?? early).push(m.child);
        } else if (m.t === 'memory') {
          instance?.end(outOfMemory(spec, m.externalBytes));
        } else if (m.t === 'call') instance?.nested(m);
        else instance?.settle(m);
      };
      const onGone = (why: InstanceDied) => {
        if (instance) instance.die(why);
        else (killTrees(early), reject(why));
      };
      const describeExit = (code: number | null, signal: string | null): InstanceDied => {
        if (/heap out of memory/i.test(stderr)) return outOfMemory(spec);
        return new InstanceDied(ReplyErrorCode.functionCrashed, `function instance ${spec.instance} ended (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      };
      let channel: Channel;
      if (spec.isolation === 'thread') {
        const thread = new Worker(HOST, {
          workerData: setupOf(spec),
          resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb, maxYoungGenerationSizeMb: 32 },
        });
        let error: InstanceDied | null = null;
        thread.on('message', onMessage);
        thread.on('error', (err: NodeJS.ErrnoException) => {
          error =
            err.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? outOfMemory(spec)
              : new InstanceDied(ReplyErrorCode.functionCrashed, `function instance ${spec.instance} failed: ${err.message}`);
        });
        thread.on('exit', (code) => onGone(error ?? describeExit(code, null)));
        channel = { post: (c) => thread.postMessage(c), end: () => void thread.terminate() };
      } else {
        const child: ChildProcess = fork(fileURLToPath(HOST), [JSON.stringify(setupOf(spec))], {
          serialization: 'advanced',
          execArgv: [`--max-old-space-size=${spec.memoryMb}`],
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          // A process group of its own: ending the instance kills whatever its function forked too.
          detached: true,
        });
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
        child.on('message', (m) => onMessage(m as HostMessage));
        child.on('error', (err) => onGone(new InstanceDied(ReplyErrorCode.functionCrashed, `function instance ${spec.instance} failed: ${err.message}`)));
        // 'close': the exit and the end of its stderr, which names an exhausted heap.
        child.on('close', (code, signal) => onGone(describeExit(code, signal)));
        channel = { post: (c) => child.send(c), end: () => killGroup(child) };
      }
    });
  }

  get alive(): boolean {
    return this.deadReason === null;
  }

  /** Runs one call; rejects with InstanceDied when the instance is lost before it answers. `onCall` makes its ctx.calls. */
  call(args: Record<string, unknown>, form: ResultForm, onCall?: NestedFromHost): Promise<HostResult> {
    if (this.deadReason) return Promise.reject(this.deadReason);
    const id = this.nextId++;
    return new Promise<HostResult>((resolve, reject) => {
      this.pending = { id, resolve, reject, onCall };
      this.channel.post({ t: 'call', id, args, form });
    });
  }

  /** Aborts the signal of the call it is running: its client left. */
  cancel(): void {
    if (this.pending && !this.deadReason) this.channel.post({ t: 'cancel', id: this.pending.id });
  }

  /** A ctx.call from the function: made for the call it runs; refused once that call has answered. */
  private nested(m: NestedCall): void {
    const reply = (a: Answer) => {
      if (this.deadReason) return;
      this.channel.post(a.ok ? { t: 'called', id: m.id, ok: true, value: a.value } : { t: 'called', id: m.id, ok: false, code: a.code, message: a.message });
    };
    const onCall = this.pending?.onCall;
    if (onCall) onCall(m, reply);
    else reply({ ok: false, code: ReplyErrorCode.functionError, message: `${m.fn} was called after the call that made it had answered` });
  }

  /** Ends the instance; a call it is running fails with `why`. What its function spawned dies now, not when its thread has gone. */
  end(why: InstanceDied): void {
    if (this.deadReason || this.ending) return;
    this.ending = why;
    this.channel.end();
    killTrees(this.children.splice(0));
  }

  private settle(m: HostResult): void {
    if (this.pending?.id !== m.id) return;
    const { resolve } = this.pending;
    this.pending = null;
    resolve(m);
  }

  private die(why: InstanceDied): void {
    if (this.deadReason) return;
    this.deadReason = this.ending ?? why;
    // However it ended (a crash, an exit of its own), nothing it spawned outlives it.
    this.channel.end();
    killTrees(this.children.splice(0));
    const pending = this.pending;
    this.pending = null;
    pending?.reject(this.deadReason);
    this.onDeath(this.deadReason);
  }
}

function outOfMemory(spec: InstanceSpec, externalBytes?: number): InstanceDied {
  const what = externalBytes === undefined ? '' : ` (${Math.round(externalBytes / 1048576)} MB of buffers and other memory outside its heap)`;
  return new InstanceDied(ReplyErrorCode.outOfMemory, `function instance ${spec.instance} exceeded its memory limit of ${spec.memoryMb} MB${what}`);
}

function setupOf(spec: InstanceSpec): HostSetup {
  return { url: spec.url, instance: spec.instance, assetsDir: spec.assetsDir, timeoutMs: spec.timeoutMs, memoryMb: spec.memoryMb };
}

/** Kills an instance process and its process group (what its function forked and left there). */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) return void process.kill(-child.pid, 'SIGKILL');
  } catch {
    // not (or no longer) a group leader
  }
  child.kill('SIGKILL');
}
