import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** A large text file written in chunks: each write waits for the stream to drain; an error rejects the write or the close. */
export function textOut(path: string): { write(text: string): Promise<void>; close(): Promise<void> } {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const failed = once(out, 'error').then(([err]) => {
    throw err;
  });
  failed.catch(() => {});
  return {
    async write(text) {
      if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
    },
    async close() {
      out.end();
      await Promise.race([once(out, 'finish'), failed]);
    },
  };
}
