/**
 * Stops an inline function that loops: under `--isolation inline` such a call
 * runs on the worker's own event loop, where nothing else can run until it
 * returns. The main thread marks each synchronous inline call in a shared slot
 * (two atomic writes, no message); a watchdog thread sees a call hold the slot
 * past the limit and terminates the main thread's JavaScript through the
 * inspector (`Runtime.terminateExecution`, what a debugger's "stop" does).
 *
 * Termination unwinds every JavaScript frame up to the native callback that
 * entered JavaScript, without running `finally` blocks. That is survivable only
 * where no frame between that callback and the function holds state: a
 * socket's read callback qualifies (node keeps its async context natively);
 * a timer, an immediate, a nextTick or a microtask does not (node aborts on a
 * corrupted async-context stack; V8 drops every queued microtask). So the RPC
 * server dispatches inline calls from a read or a message callback only, keeps
 * its own dispatch state off the stack, and answers the cut-short call when it
 * regains control (this module's `onStopped`, or the connection's next read).
 */
import { MessageChannel, Worker } from 'node:worker_threads';

/** Slot values: 0 idle, > 0 the id of the call running, < 0 the watchdog's claims. */
export const IDLE = 0;
/** The watchdog claimed the call and a termination is on its way. */
export const KILLING = -1;

export interface WatchdogData {
  slot: Int32Array;
  limitMs: number;
}

export class InlineWatchdog {
  private readonly slot = new Int32Array(new SharedArrayBuffer(4));
  private readonly thread: Worker;
  private readonly wake = new MessageChannel();
  private readonly hops = new MessageChannel();
  private readonly hopped: (() => void)[] = [];
  private lastId = 0;

  /** `onStopped` runs on the main thread once a call was terminated and JavaScript runs again. */
  constructor(limitMs: number, onStopped: () => void) {
    const data: WatchdogData & { wake: unknown } = { slot: this.slot, limitMs, wake: this.wake.port2 };
    this.thread = new Worker(new URL('./inline-watchdog-thread.js', import.meta.url), {
      workerData: data,
      transferList: [this.wake.port2],
    });
    // Neither keeps the worker alive; a watchdog that fails leaves calls unguarded, as before.
    this.thread.unref();
    this.thread.on('error', () => {});
    this.wake.port1.on('message', onStopped);
    this.wake.port1.unref();
    this.hops.port2.on('message', () => this.hopped.shift()?.());
    this.hops.port1.unref();
    this.hops.port2.unref();
  }

  /** Runs `next` from a message callback: after the microtasks queued now, where a termination is survivable. */
  hop(next: () => void): void {
    this.hopped.push(next);
    this.hops.port1.postMessage(null);
  }

  /** Marks the start of a synchronous inline call; returns its id for leave(). */
  enter(): number {
    const id = (this.lastId = this.lastId >= 0x7ffffffe ? 1 : this.lastId + 1);
    Atomics.store(this.slot, 0, id);
    return id;
  }

  /** Marks its end. If the watchdog claimed it meanwhile, waits here for the termination it sent. */
  leave(id: number): void {
    if (Atomics.compareExchange(this.slot, 0, id, IDLE) === id) return;
    // Past the limit by the watchdog's clock: the call's result is dropped and
    // it answers function_timeout like one that never returned.
    while (Atomics.load(this.slot, 0) === KILLING) {
      // the termination arrives at this loop's interrupt check
    }
    Atomics.store(this.slot, 0, IDLE);
  }

  /** After a termination: the slot is free for the next call. */
  reset(): void {
    Atomics.store(this.slot, 0, IDLE);
  }

  async close(): Promise<void> {
    this.wake.port1.close();
    this.hops.port1.close();
    await this.thread.terminate();
  }
}
