import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES } from './protocol.js';

export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Splits a byte stream into frame bodies. Chunks are kept as they arrive and
 * joined only when a frame spans several of them, so the common case (whole
 * frames inside one chunk) copies nothing. A declared length above the limit
 * is rejected from the header alone: nothing of that size is ever allocated.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frames = 0;
  /** Bytes of the stream taken as whole frames: the next frame's offset in the stream (kernel stamps find its segment by it). */
  consumed = 0;

  /**
   * `firstFrameBytes`: a smaller limit for the first frame alone, the hello a
   * server reads before it knows who is calling.
   */
  constructor(
    private readonly maxFrameBytes = MAX_FRAME_BYTES,
    private readonly firstFrameBytes = maxFrameBytes,
  ) {}

  /** Feeds a chunk; returns the complete bodies it finished. Throws FrameError. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const bodies: Buffer[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      const head = this.peekHeader();
      const limit = this.frames === 0 ? this.firstFrameBytes : this.maxFrameBytes;
      if (head > limit) {
        const what = this.frames === 0 && limit < this.maxFrameBytes ? 'first frame (the hello)' : 'frame';
        throw new FrameError(`${what} of ${head} bytes exceeds the limit of ${limit}`);
      }
      if (this.buffered < FRAME_HEADER_BYTES + head) break;
      this.consume(FRAME_HEADER_BYTES);
      bodies.push(this.consume(head));
      this.frames++;
    }
    return bodies;
  }

  /** Bytes held that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  /** The declared body length of the frame in progress; 0 when none or its header is not whole yet. */
  get declared(): number {
    return this.buffered < FRAME_HEADER_BYTES ? 0 : this.peekHeader();
  }

  private peekHeader(): number {
    const first = this.chunks[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return this.flatten().readUInt32BE(0);
  }

  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private consume(n: number): Buffer {
    this.consumed += n;
    if (n === 0) return Buffer.alloc(0);
    let first = this.chunks[0]!;
    if (first.length < n) first = this.flatten();
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}

/** Prefixes a body with its length. */
export function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}
