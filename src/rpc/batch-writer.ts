import type { Socket } from 'node:net';
import { now } from '../trace/clock.js';

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
export class BatchWriter<Tag> {
  private frames: Buffer[] = [];
  private tags: Tag[] = [];
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly onFlush: (frame: Buffer, tag: Tag, stamp: bigint) => void,
    private readonly busy: () => boolean = () => false,
  ) {}

  enqueue(frame: Buffer, tag: Tag): void {
    this.frames.push(frame);
    this.tags.push(tag);
    if (!this.scheduled) {
      this.scheduled = true;
      if (this.busy()) setImmediate(this.flush);
      else process.nextTick(this.flush);
    }
  }

  private flush = (): void => {
    this.scheduled = false;
    const frames = this.frames;
    const tags = this.tags;
    this.frames = [];
    this.tags = [];
    if (this.socket.destroyed) return;
    const stamp = now();
    for (let i = 0; i < frames.length; i++) this.onFlush(frames[i]!, tags[i]!, stamp);
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  };
}
