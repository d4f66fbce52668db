import type { Socket } from 'node:net';
import { now } from '../trace/clock.js';
import type { Frame } from './codec.js';

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
  private frames: Frame[] = [];
  private tags: Tag[] = [];
  private scheduled = false;

  constructor(
    private readonly socket: Socket,
    private readonly onFlush: (frame: Frame, tag: Tag, stamp: bigint) => void,
    private readonly busy: () => boolean = () => false,
  ) {}

  enqueue(frame: Frame, tag: Tag): void {
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
    let parts = 0;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      this.onFlush(frame, tags[i]!, stamp);
      parts += Array.isArray(frame) ? frame.length : 1;
    }
    if (parts === 1) return void this.socket.write(frames[0] as Buffer);
    if (parts === frames.length) return void this.socket.write(Buffer.concat(frames as Buffer[]));
    // A large body is a part of its own: corked, the parts leave in one writev, none copied.
    this.socket.cork();
    for (const frame of frames) {
      if (Array.isArray(frame)) for (const part of frame) this.socket.write(part);
      else this.socket.write(frame);
    }
    this.socket.uncork();
  };
}
