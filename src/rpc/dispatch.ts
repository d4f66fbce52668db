/**
 * The order in which the RPC server dispatches the frames it reads. A read
 * that completes several frames dispatches them one after the other; the
 * call after one whose promise settles here waits for a turn, so that a
 * promise settled at once is stamped (t3_end) before its neighbours are
 * dispatched, not after.
 *
 * Everything here is kept off the stack, in objects: under the inline
 * watchdog a terminated function unwinds every frame above it, the server's
 * included, without running a `finally` (worker/inline-watchdog.ts). What a
 * cut-short dispatch leaves undone is picked up by pumpAll().
 */
import type { FrameAt } from '../trace/records.js';

/** The dispatch state shared by a server's connections. */
export interface Pump {
  /** Answers the call being dispatched when that was cut short; null outside a dispatch. */
  cut: (() => void) | null;
  /** Connections with frames read and not yet dispatched. */
  ready: Set<() => void>;
}

/** Runs in a read or message callback only, where a termination is survivable. */
export function pumpAll(pump: Pump): void {
  pump.cut?.();
  for (const drain of pump.ready) {
    // Taken off before it runs: a drain cut short is put back by its resume.
    pump.ready.delete(drain);
    drain();
  }
}

export interface FrameQueueOptions {
  /** Dispatches one frame; false when nothing more of this connection may be dispatched. */
  receive(body: Buffer, t3Recv: bigint, at: FrameAt | undefined): boolean;
  /** Whether the frame just dispatched left a promise that settles on this thread. */
  settlesHere(): boolean;
  /** How a turn is waited for. */
  turn(next: () => void): void;
}

/** The frames one connection has read and not yet dispatched, each with its read's t3_recv. */
export class FrameQueue {
  private waiting: Buffer[] = [];
  private recv: bigint[] = [];
  private ats: (FrameAt | undefined)[] = [];
  private next = 0;
  private turnPending = false;

  constructor(
    private readonly pump: Pump,
    private readonly options: FrameQueueOptions,
  ) {}

  /** The frames of one read; `ats`, with kernel stamps: where each arrived. */
  push(bodies: Buffer[], t3Recv: bigint, ats?: FrameAt[]): void {
    const { pump } = this;
    if (bodies.length === 1 && this.next === this.waiting.length && !this.turnPending && pump.cut === null && pump.ready.size === 0) {
      this.options.receive(bodies[0]!, t3Recv, ats?.[0]);
      return;
    }
    for (let i = 0; i < bodies.length; i++) {
      this.waiting.push(bodies[i]!);
      this.recv.push(t3Recv);
      this.ats.push(ats?.[i]);
    }
    if (this.waiting.length > this.next) pump.ready.add(this.drain);
    pumpAll(pump);
  }

  /** After a cut-short dispatch: the frames read after it go on. */
  resume(): void {
    this.pump.ready.add(this.drain);
  }

  readonly drain = (): void => {
    while (this.next < this.waiting.length && !this.turnPending) {
      const k = this.next++;
      if (!this.options.receive(this.waiting[k]!, this.recv[k]!, this.ats[k])) {
        this.next = this.waiting.length;
        break;
      }
      if (this.next < this.waiting.length && this.options.settlesHere()) {
        this.turnPending = true;
        this.options.turn(this.afterTurn);
        return;
      }
    }
    if (this.next === this.waiting.length) {
      this.waiting = [];
      this.recv = [];
      this.ats = [];
      this.next = 0;
    }
  };

  private readonly afterTurn = (): void => {
    this.turnPending = false;
    this.pump.ready.add(this.drain);
    pumpAll(this.pump);
  };
}
