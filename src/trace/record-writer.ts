import { pino } from 'pino';

/**
 * Appends already formatted NDJSON lines to a file. The hot path only
 * concatenates strings; sonic-boom (pino's writer) buffers them and writes
 * asynchronously in large chunks, so a record costs a string append, not a
 * syscall.
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

export function openRecordSink(file: string | undefined): RecordSink {
  if (!file) return noop;
  // pino.destination is a SonicBoom: pino's own asynchronous, buffered writer.
  const boom = pino.destination({ dest: file, append: true, mkdir: true, minLength: 64 * 1024, maxWrite: 1024 * 1024, sync: false });
  let closed = false;
  return {
    write(line: string) {
      if (!closed) boom.write(line);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        const finish = () => resolve();
        boom.once('close', finish);
        boom.once('error', finish);
        // flushSync before end: a record written just before a signal must not be lost.
        try {
          boom.flushSync();
        } catch {
          // sonic-boom throws EAGAIN-like errors if a write is in flight; end() still flushes.
        }
        boom.end();
      });
    },
  };
}
