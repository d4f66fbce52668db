import { FrameError } from './framing.js';
import { FRAME_HEADER_BYTES } from './protocol.js';

/** Reads go into this much scratch memory, reused, until a large frame gets a buffer of its own. */
const SCRATCH_BYTES = 64 * 1024;
/** A frame with at least this much still to come is read straight into its own buffer. */
const DIRECT_BYTES = 16 * 1024;
/**
 * Splits a socket's bytes into frame bodies, read with node's `onread`
 * (`net.connect({ onread: reader.onread })`) instead of 'data' events: reads
 * land in one reused scratch buffer, not in a 64 KiB allocation per read that
 * node shrinks by a copy, and once a large frame's length is known the rest of
 * it is read by the kernel straight into the frame's own buffer, so a 1 MiB
 * reply is neither copied in user space nor put together from chunks. Small
 * bodies are copied out of the scratch (they outlive it), large ones are
 * handed over as read. A declared length above the limit is refused from the
 * header alone, as FrameDecoder refuses it.
 */
export class FrameReader {
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** The start of a frame that the next read completes (at most a frame header and a small body). */
  private carry: Buffer | null = null;
  /** A large frame's body being read in place, and how much of it has arrived. */
  private body: Buffer | null = null;
  private filled = 0;

  readonly onread = {
    buffer: (): Buffer => (this.body ? this.body.subarray(this.filled) : this.scratch),
    // false pauses the socket: nothing more is read after a bad frame.
    callback: (n: number): boolean => {
      try {
        this.read(n);
        return true;
      } catch (err) {
        this.onError(err as FrameError);
        return false;
      }
    },
  };

  /** `onBodies` gets the bodies each read completed, in order; `onError` a FrameError, after which nothing more is read. */
  constructor(
    private readonly maxFrameBytes: number,
    private readonly onBodies: (bodies: Buffer[]) => void,
    private readonly onError: (err: FrameError) => void,
  ) {}

  private read(n: number): void {
    if (this.body) {
      this.filled += n;
      if (this.filled < this.body.length) return;
      const body = this.body;
      this.body = null;
      return this.onBodies([body]);
    }
    let data = this.scratch.subarray(0, n);
    // Joined only when a frame spans reads: a header, or a body of less than DIRECT_BYTES.
    const owned = this.carry !== null;
    if (this.carry) {
      data = Buffer.concat([this.carry, data]);
      this.carry = null;
    }
    const bodies: Buffer[] = [];
    let at = 0;
    while (data.length - at >= FRAME_HEADER_BYTES) {
      const length = data.readUInt32BE(at);
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes}`);
      const start = at + FRAME_HEADER_BYTES;
      const have = data.length - start;
      if (have >= length) {
        const body = data.subarray(start, start + length);
        bodies.push(owned ? body : Buffer.from(body));
        at = start + length;
        continue;
      }
      if (length - have >= DIRECT_BYTES) {
        this.body = Buffer.allocUnsafe(length);
        data.copy(this.body, 0, start);
        this.filled = have;
        at = data.length;
      }
      break;
    }
    if (at < data.length) this.carry = Buffer.from(data.subarray(at));
    if (bodies.length > 0) this.onBodies(bodies);
  }
}
