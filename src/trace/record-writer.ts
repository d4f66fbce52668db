import { closeSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Appends already formatted NDJSON lines to a file: the record writer of all
 * three roles, so its cost is part of every measurement and must be tiny.
 *
 * The hot path pushes a string onto an array; a chunk of ~64 KiB is joined
 * and written asynchronously, one syscall per few hundred records, and a
 * timer writes the rest every 200 ms so the file keeps up with a slow run.
 *
 * Why not pino.destination (sonic-boom 4): its write() calls
 * Buffer.byteLength() on the whole pending buffer string for every line
 * (index.js, `Buffer.byteLength(bufs[bufs.length - 1])`), which flattens a
 * string of up to maxWrite bytes each time: measured here at ~150 µs per
 * record with a 1 MiB maxWrite, and still several µs at 64 KiB, more than the
 * stages we measure. Counting characters ourselves costs nothing.
 */
export interface RecordSink {
  write(line: string): void;
  /** Flushes everything written so far and closes the file. */
  close(): Promise<void>;
}

const noop: RecordSink = {
  write() {},
  close: async () => {},
};

/** Pending characters that trigger a write. */
const CHUNK_CHARS = 64 * 1024;
const FLUSH_EVERY_MS = 200;

/** Sinks still open: flushed synchronously if the process exits without closing them. */
const open = new Set<FileSink>();
process.once('exit', () => {
  for (const sink of open) sink.flushSync();
});

class FileSink implements RecordSink {
  private pending: string[] = [];
  private pendingChars = 0;
  private writing = false;
  private closed = false;
  private failed = false;
  private dropped = 0;
  private onWritten: (() => void) | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly fd: number,
  ) {
    this.timer = setInterval(() => {
      if (!this.writing && this.pendingChars > 0) this.flush();
    }, FLUSH_EVERY_MS);
    this.timer.unref();
    open.add(this);
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.failed) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= CHUNK_CHARS && !this.writing) this.flush();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    clearInterval(this.timer);
    return new Promise((resolve) => {
      const finish = () => {
        this.flushSync();
        closeSync(this.fd);
        open.delete(this);
        resolve();
      };
      if (this.writing) this.onWritten = finish;
      else finish();
    });
  }

  /** Writes what is pending now, blocking: for close and process exit only. */
  flushSync(): void {
    if (this.writing || this.failed || this.pendingChars === 0) return;
    const data = Buffer.from(this.take());
    try {
      for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
    } catch (err) {
      this.fail(err as Error, data);
    }
  }

  private take(): string {
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return text;
  }

  private flush(): void {
    this.writing = true;
    this.writeFrom(Buffer.from(this.take()), 0);
  }

  private writeFrom(data: Buffer, offset: number): void {
    write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      if (err) {
        this.writing = false;
        this.fail(err, data.subarray(offset));
      } else if (offset + written < data.length) {
        this.writeFrom(data, offset + written);
        return;
      }
      this.writing = false;
      if (this.onWritten) this.onWritten();
      else if (this.pendingChars >= CHUNK_CHARS) this.flush();
    });
  }

  /** A full disk or a removed file: say so once, and count what is lost rather than pretend. */
  private fail(err: Error, lost: Buffer): void {
    this.failed = true;
    let lines = 0;
    for (const byte of lost) if (byte === 0x0a) lines++;
    this.dropped += lines + this.pending.length;
    this.pending = [];
    this.pendingChars = 0;
    process.stderr.write(`faasbench: cannot write records to ${this.file} (${err.message}); ${this.dropped} records lost so far, later ones are dropped\n`);
  }
}

export function openRecordSink(file: string | undefined): RecordSink {
  if (!file) return noop;
  try {
    mkdirSync(dirname(file), { recursive: true });
    return new FileSink(file, openSync(file, 'a'));
  } catch (err) {
    (err as Error).message = `cannot open the record file ${file}: ${(err as Error).message}`;
    throw err;
  }
}
