import type { Socket } from 'node:net';
import { now } from '../trace/clock.js';

/**
 * Collects the frames produced during one turn of the event loop and hands
 * them to the socket in one write. With many calls in flight this turns N
 * syscalls into one; with one call in flight it costs a nextTick.
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
  ) {}

  enqueue(frame: Buffer, tag: Tag): void {
    this.frames.push(frame);
    this.tags.push(tag);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
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
