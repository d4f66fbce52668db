import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { constants as zlib, gzip, gzipSync } from 'node:zlib';
import { isGzipFile } from './records.js';

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
 *
 * When a write fails (a full disk), the file is cut back to its last whole
 * line and every later record is counted as lost: the loss is reported every
 * 10 s and at exit, and the process then exits with status 1. A process
 * killed with SIGKILL loses what was still pending: at most 64 KiB or the
 * last 200 ms of records.
 *
 * A file named *.gz gets each chunk as a gzip member of its own, compressed on
 * libuv's thread pool: concatenated members are one valid gzip stream, so
 * appending, cutting back after a failed write and a killed writer all leave a
 * file that reads back whole up to its last complete chunk.
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
const REPORT_LOSS_EVERY_MS = 10_000;
/** zlib's fastest level: records compress 6–11× even so (7–13× at the default level, at twice the CPU), and the writer's cost is part of every measurement. */
const GZIP = { level: zlib.Z_BEST_SPEED };

/** The bytes of one chunk as they go to the file, and how many records they hold. */
interface Chunk {
  bytes: Buffer;
  lines: number;
  /** A gzip member: written whole or not at all. */
  member: boolean;
}

/** Records lost by every sink of this process. */
let lostInProcess = 0;

/** Sinks still open: flushed synchronously if the process exits without closing them. */
const open = new Set<FileSink>();
process.once('exit', (code) => {
  for (const sink of open) sink.flushSync();
  for (const sink of open) sink.reportLoss('in total', true);
  // Incomplete records must not look like a successful run to a script.
  if (lostInProcess > 0 && !code) {
    process.stderr.write(`faasbench: exit status 1: ${lostInProcess} records were lost\n`);
    process.exitCode = 1;
  }
});

class FileSink implements RecordSink {
  private pending: string[] = [];
  private pendingChars = 0;
  private writing = false;
  private closed = false;
  private failed: Error | null = null;
  private dropped = 0;
  private reported = 0;
  /** Bytes of the file that end in a whole line: where a failed write is cut back to. */
  private size: number;
  private onWritten: (() => void) | null = null;
  private readonly timer: NodeJS.Timeout;
  private lossTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string,
    private readonly fd: number,
    private readonly gzipped: boolean,
  ) {
    this.size = fstatSync(fd).size;
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
      lostInProcess++;
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
        if (this.lossTimer) clearInterval(this.lossTimer);
        this.reportLoss('in total', true);
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
    const lines = this.pending.length;
    const raw = Buffer.from(this.take());
    const chunk: Chunk = this.gzipped ? { bytes: gzipSync(raw, GZIP), lines, member: true } : { bytes: raw, lines, member: false };
    let off = 0;
    try {
      while (off < chunk.bytes.length) off += writeSync(this.fd, chunk.bytes, off);
      this.size += chunk.bytes.length;
    } catch (err) {
      this.fail(err as Error, chunk, off);
    }
  }

  /** Says how many records are lost, if more than last said (at close: whenever any were). */
  reportLoss(when: string, always = false): void {
    if (this.dropped === 0 || (!always && this.dropped === this.reported)) return;
    this.reported = this.dropped;
    process.stderr.write(`faasbench: ${this.dropped} records lost ${when}: cannot write to ${this.file} (${this.failed?.message})\n`);
  }

  private take(): string {
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return text;
  }

  private flush(): void {
    this.writing = true;
    const lines = this.pending.length;
    const raw = Buffer.from(this.take());
    if (!this.gzipped) {
      this.writeFrom({ bytes: raw, lines, member: false }, 0);
      return;
    }
    gzip(raw, GZIP, (err, bytes) => {
      // zlib fails only on a lack of memory: the chunk is lost like a failed write.
      if (err) this.afterWrite(err, { bytes: raw, lines, member: true }, 0);
      else this.writeFrom({ bytes, lines, member: true }, 0);
    });
  }

  private writeFrom(chunk: Chunk, offset: number): void {
    const data = chunk.bytes;
    write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      if (!err && offset + written < data.length) this.writeFrom(chunk, offset + written);
      else this.afterWrite(err, chunk, offset);
    });
  }

  private afterWrite(err: Error | null, chunk: Chunk, offset: number): void {
    this.writing = false;
    if (err) this.fail(err, chunk, offset);
    else this.size += chunk.bytes.length;
    if (this.onWritten) this.onWritten();
    else if (this.pendingChars >= CHUNK_CHARS) this.flush();
  }

  /**
   * A full disk or a removed file: `chunk` was written up to `written`. Cut the
   * file back to its last whole line (or before a gzip member), count what is
   * lost rather than pretend, and keep saying so.
   */
  private fail(err: Error, chunk: Chunk, written: number): void {
    this.failed = err;
    const data = chunk.bytes;
    const whole = written === 0 || chunk.member ? 0 : data.lastIndexOf(0x0a, written - 1) + 1;
    if (whole < written) {
      try {
        ftruncateSync(this.fd, this.size + whole);
      } catch {
        // Nothing more can be done; the analysis names a file that ends mid-line.
      }
    }
    let lines = 0;
    if (chunk.member) lines = chunk.lines;
    else for (let i = whole; i < data.length; i++) if (data[i] === 0x0a) lines++;
    lines += this.pending.length;
    this.dropped += lines;
    lostInProcess += lines;
    this.pending = [];
    this.pendingChars = 0;
    this.reportLoss('so far, later ones are dropped');
    this.lossTimer = setInterval(() => this.reportLoss('so far'), REPORT_LOSS_EVERY_MS);
    this.lossTimer.unref();
  }
}

export function openRecordSink(file: string | undefined): RecordSink {
  if (!file) return noop;
  try {
    mkdirSync(dirname(file), { recursive: true });
    return new FileSink(file, openSync(file, 'a'), isGzipFile(file));
  } catch (err) {
    (err as Error).message = `cannot open the record file ${file}: ${(err as Error).message}`;
    throw err;
  }
}
