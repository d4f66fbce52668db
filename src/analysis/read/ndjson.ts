/**
 * Streams an NDJSON file line by line without holding it in memory, handing
 * each line on as a byte range of the chunk it sits in (no string per line).
 * A file named *.gz is gunzipped on the way (every member of a multi-member
 * file).
 *
 * Linear in its input, whatever it holds: a line split across chunks is
 * gathered in one buffer that grows by doubling, not concatenated anew per
 * chunk; a line longer than MAX_LINE_BYTES stops the analysis with an error
 * naming the file and line (a record is a few hundred bytes); and a gzip
 * file may not inflate to more than MAX_INFLATION times its size (records
 * inflate 6–15×), so that a small bomb cannot keep it busy for minutes.
 */
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isGzipFile } from '../../trace/records.js';
import { AnalysisInputError } from './inputs.js';

export interface LineSink {
  /**
   * Reads the line at buf[start…] if it can find its end itself: returns
   * the index of the newline that ends it, or −1 to be handed the line by
   * `line` instead. A newline is there, at the latest at the end of buf.
   */
  scan?(buf: Buffer, start: number, lineNumber: number): number;
  /** One non-empty line, buf[start, end) without its CR/LF, and its 1-based line number. The buffer is reused: copy what must outlive the call. */
  line(buf: Buffer, start: number, end: number, lineNumber: number): void;
  /** Bytes consumed so far of this file (as stored: compressed, for a .gz), for progress. */
  progress?(bytes: number): void;
  /** The file ends without a newline: its writer stopped in the middle of a line. */
  unterminated?(lineNumber: number): void;
}

/** The longest line read: far beyond any record (samples, the longest, are under 1 KB). */
export const MAX_LINE_BYTES = 1 << 20;
/** A .gz may inflate to this many times its size, and to at least MIN_INFLATED bytes whatever its size. */
export const MAX_INFLATION = 100;
export const MIN_INFLATED = 64 << 20;

const NEWLINE = 0x0a;
const CR = 0x0d;

export interface ReadLimits {
  maxLineBytes?: number;
  maxInflation?: number;
}

export async function readLines(file: string, sink: LineSink, limits: ReadLimits = {}): Promise<number> {
  const maxLine = limits.maxLineBytes ?? MAX_LINE_BYTES;
  const gzipped = isGzipFile(file);
  const raw = gzipped ? createReadStream(file, { highWaterMark: 1 << 20 }) : null;
  const stream = raw ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : chunksOf(file);
  // pipe() does not pass a read error on.
  if (raw) raw.once('error', (err) => (stream as Readable).destroy(err));
  const inflatedLimit = gzipped ? Math.max(MIN_INFLATED, (limits.maxInflation ?? MAX_INFLATION) * sizeOf(file)) : Infinity;
  let carry: Buffer = Buffer.alloc(0);
  let carried = 0;
  let lineNumber = 0;
  let bytes = 0;
  let inflated = 0;
  const emit = (buf: Buffer, start: number, end: number) => {
    if (end - start > maxLine) throw tooLong();
    lineNumber++;
    if (end > start && buf[end - 1] === CR) end--;
    if (end > start) sink.line(buf, start, end, lineNumber);
  };
  // The line at buf[start…], which a newline ends within buf; returns that newline's index.
  const scan = sink.scan?.bind(sink);
  const line = (buf: Buffer, start: number): number => {
    if (scan) {
      const nl = scan(buf, start, lineNumber + 1);
      if (nl >= 0) {
        if (nl - start > maxLine) throw tooLong();
        lineNumber++;
        return nl;
      }
    }
    const nl = buf.indexOf(NEWLINE, start);
    emit(buf, start, nl);
    return nl;
  };
  const tooLong = () =>
    new AnalysisInputError(`${file}: line ${lineNumber + 1} is longer than ${maxLine.toLocaleString('en')} bytes: not a record file`);
  let torn = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes = raw ? raw.bytesRead : bytes + chunk.length;
      inflated += chunk.length;
      if (inflated > inflatedLimit) {
        throw new AnalysisInputError(
          `${file}: inflates to more than ${Math.round(inflatedLimit / 2 ** 20).toLocaleString('en')} MiB, ${Math.round(inflatedLimit / (bytes || 1))} times its size: not a record file (a gzip bomb?)`,
        );
      }
      let start = 0;
      const last = chunk.lastIndexOf(NEWLINE);
      if (carried > 0 || last < 0) {
        // The line began in an earlier chunk, or goes on into the next one.
        const end = last < 0 ? -1 : chunk.indexOf(NEWLINE);
        const take = end < 0 ? chunk.length : end + 1;
        if (carried + take > maxLine + 1) throw tooLong();
        if (carried + take > carry.length) carry = grow(carry, carried, carried + take);
        chunk.copy(carry, carried, 0, take);
        carried += take;
        if (end < 0) {
          sink.progress?.(bytes);
          continue;
        }
        line(carry, 0);
        carried = 0;
        start = end + 1;
      }
      while (start <= last) start = line(chunk, start) + 1;
      if (start < chunk.length) {
        const rest = chunk.length - start;
        if (rest > maxLine) throw tooLong();
        if (rest > carry.length) carry = grow(carry, 0, rest);
        chunk.copy(carry, 0, start);
        carried = rest;
      }
      sink.progress?.(bytes);
    }
  } catch (err) {
    if (raw) {
      (stream as Readable).destroy();
      raw.destroy();
    }
    if (err instanceof AnalysisInputError || !gzipped) throw err;
    // A gzip member cut short is a writer killed mid-write: what came before it counts, as with a torn line.
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
      throw new AnalysisInputError(`${file} is not a readable gzip file: ${(err as Error).message}`);
    }
    torn = true;
  }
  // A last line without a trailing newline (a writer killed mid-run) still counts.
  if (carried > 0) {
    if (carried >= carry.length) carry = grow(carry, carried, carried + 1);
    carry[carried] = NEWLINE;
    line(carry, 0);
    torn = true;
  }
  if (torn) sink.unterminated?.(lineNumber);
  return lineNumber;
}

/**
 * A plain file's bytes, 1 MiB at a time, into two buffers used in turn: the
 * next read runs on libuv's pool while the caller works on this chunk. A
 * read stream's fresh buffer per chunk cost more CPU (0.8 s per GB, in page
 * faults) than the reads themselves.
 */
async function* chunksOf(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  const buffers = [Buffer.allocUnsafe(1 << 20), Buffer.allocUnsafe(1 << 20)];
  let turn = 0;
  let next = handle.read(buffers[0]!, 0, 1 << 20, null);
  try {
    for (;;) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) return;
      turn ^= 1;
      next = handle.read(buffers[turn]!, 0, 1 << 20, null);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await next.catch(() => {});
    await handle.close();
  }
}

/** A buffer of at least `need` bytes holding the first `keep` bytes of `old`. */
function grow(old: Buffer, keep: number, need: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(need, old.length * 2, 1 << 16));
  old.copy(next, 0, 0, keep);
  return next;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0; // the read fails and says why
  }
}
