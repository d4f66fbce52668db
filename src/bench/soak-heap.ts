/**
 * Preloaded (`node --import`) into the gateway and worker of a soak run, and
 * only there: once a second, the process's own memoryUsage() goes to a small
 * file the soak reads. /proc shows RSS but not the V8 heap; this is the heap.
 * A timer a second and one small file write is all it adds to the process.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.FAASBENCH_SOAK_HEAP_DIR;
if (dir && isMainThread) {
  const file = join(dir, `heap-${process.pid}.json`);
  const tmp = `${file}.tmp`;
  const write = () => {
    const m = process.memoryUsage();
    try {
      // Written whole and renamed, so the reader never sees half a file.
      writeFileSync(tmp, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external }));
      renameSync(tmp, file);
    } catch {
      // the soak's folder went away: nothing to report to
    }
  };
  write();
  setInterval(write, 1000).unref();
}
