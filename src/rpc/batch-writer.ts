import type { Socket } from 'node:net';
import { now } from '../trace/clock.js';
import { frameLength, type Frame } from './codec.js';

/**
 * Collects frames and hands them to the socket in one write, turning N
 * syscalls into one. When `busy()` says other calls are in flight, it waits
 * for setImmediate: the end of the current poll phase, so the frames of every
 * request read in that phase (each arriving in its own I/O callback) share
 * one write. Otherwise, with one call in flight, it waits only for a
 * nextTick and adds no latency.
 * `onFlush` sees each frame with the stamp of the moment it went to the
 * socket, so "handed to the socket" stamps (t2, t3_send) are true to the name.
 */
export interface BatchWriterOptions<Tag> {
  /** Each frame, just before the write, with the write's stamp. */
  onFlush: (frame: Frame, tag: Tag, stamp: bigint) => void;
  /** Whether other calls are in flight (then frames may wait for the poll phase to end). */
  busy?: () => boolean;
  /**
   * Each frame once its fate is known: `delivered`, the kernel took all of
   * its write (at once, or later); not, the socket was gone first (never
   * written, or still waiting when it closed).
   */
  onDone?: (tag: Tag, stamp: bigint, delivered: boolean) => void;
}

interface Batch<Tag> {
  tags: Tag[];
  stamp: bigint;
}

export class BatchWriter<Tag> {
  private frames: Frame[] = [];
  private tags: Tag[] = [];
  private scheduled = false;
  /** Bytes of the frames enqueued and not yet handed to the socket. */
  private pending = 0;
  /** Writes the kernel has not taken whole yet, in order; null for one already reported. */
  private readonly writing: (Batch<Tag> | null)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly options: BatchWriterOptions<Tag>,
  ) {}

  /** Bytes enqueued and not yet handed to the socket (the socket's writableLength counts those handed to it). */
  get pendingBytes(): number {
    return this.pending;
  }

  enqueue(frame: Frame, tag: Tag): void {
    this.pending += frameLength(frame);
    this.frames.push(frame);
    this.tags.push(tag);
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.options.busy?.()) setImmediate(this.flush);
      else process.nextTick(this.flush);
    }
  }

  private flush = (): void => {
    this.scheduled = false;
    const frames = this.frames;
    const tags = this.tags;
    this.frames = [];
    this.tags = [];
    this.pending = 0;
    const { onFlush, onDone } = this.options;
    const stamp = now();
    if (this.socket.destroyed) {
      if (onDone) for (const tag of tags) onDone(tag, stamp, false);
      return;
    }
    let parts = 0;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      onFlush(frame, tags[i]!, stamp);
      parts += Array.isArray(frame) ? frame.length : 1;
    }
    // With onDone, the write's callback (the last part's, when corked: writes complete in order) reports it.
    const done = onDone ? this.written : undefined;
    if (parts === 1) this.socket.write(frames[0] as Buffer, done);
    else if (parts === frames.length) this.socket.write(Buffer.concat(frames as Buffer[]), done);
    else {
      // A large body is a part of its own: corked, the parts leave in one writev, none copied.
      this.socket.cork();
      const all = frames.flatMap((frame) => (Array.isArray(frame) ? frame : [frame]));
      for (let i = 0; i < all.length; i++) this.socket.write(all[i]!, i === all.length - 1 ? done : undefined);
      this.socket.uncork();
    }
    if (!onDone) return;
    // Taken by the kernel at once (the common case): reported now; else when the write completes.
    if (this.socket.writableLength === 0) {
      this.writing.push(null);
      for (const tag of tags) onDone(tag, stamp, true);
    } else {
      this.writing.push({ tags, stamp });
    }
  };

  private readonly written = (err?: Error | null): void => {
    const batch = this.writing.shift();
    if (!batch) return;
    // A socket destroyed with the write pending may still call back without an error.
    const delivered = !err && !this.socket.destroyed;
    for (const tag of batch.tags) this.options.onDone!(tag, batch.stamp, delivered);
  };
}
