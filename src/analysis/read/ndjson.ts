/**
 * Streams an NDJSON file line by line without holding it in memory.
 * A hand-rolled splitter rather than node:readline: readline's per-line event
 * and string juggling cost several seconds over millions of lines. Lines are
 * cut at byte 0x0A, which never occurs inside a multi-byte UTF-8 sequence, so
 * a chunk boundary cannot split a character of a decoded line. A file named
 * *.gz is gunzipped on the way (every member of a multi-member file).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { isGzipFile } from '../../trace/records.js';
import { AnalysisInputError } from './inputs.js';

export interface LineSink {
  /** One non-empty line (without its CR/LF) and its 1-based line number. */
  line(text: string, lineNumber: number): void;
  /** Bytes consumed so far of this file (as stored: compressed, for a .gz), for progress. */
  progress?(bytes: number): void;
  /** The file ends without a newline: its writer stopped in the middle of a line. */
  unterminated?(lineNumber: number): void;
}

const NEWLINE = 0x0a;

export async function readLines(file: string, sink: LineSink): Promise<number> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const gzipped = isGzipFile(file);
  const stream = gzipped ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  // pipe() does not pass a read error on.
  if (gzipped) raw.once('error', (err) => stream.destroy(err));
  let carry: Buffer | null = null;
  let lineNumber = 0;
  let bytes = 0;
  const emit = (text: string) => {
    // Split a decoded block of whole lines.
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end === -1) break;
      lineNumber++;
      let stop = end;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      if (stop > start) sink.line(text.slice(start, stop), lineNumber);
      start = end + 1;
    }
  };
  let torn = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bytes = gzipped ? raw.bytesRead : bytes + chunk.length;
      const last = chunk.lastIndexOf(NEWLINE);
      if (last === -1) {
        carry = carry ? Buffer.concat([carry, chunk]) : chunk;
      } else {
        const head = carry ? Buffer.concat([carry, chunk.subarray(0, last + 1)]) : chunk.subarray(0, last + 1);
        emit(head.toString('utf8'));
        carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : null;
      }
      sink.progress?.(bytes);
    }
  } catch (err) {
    if (!gzipped) throw err;
    // A gzip member cut short is a writer killed mid-write: what came before it counts, as with a torn line.
    if ((err as NodeJS.ErrnoException).code !== 'Z_BUF_ERROR') {
      throw new AnalysisInputError(`${file} is not a readable gzip file: ${(err as Error).message}`);
    }
    torn = true;
  }
  // A last line without a trailing newline (a writer killed mid-run) still counts.
  if (carry && carry.length > 0) {
    emit(carry.toString('utf8') + '\n');
    torn = true;
  }
  if (torn) sink.unterminated?.(lineNumber);
  return lineNumber;
}
