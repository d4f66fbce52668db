/**
 * Preloaded (`node --import`) into the gateway and worker of a soak run, and
 * only there: once a second, the process's own memoryUsage() goes to a small
 * file the soak reads. /proc shows RSS but not the V8 heap; this is the heap.
 * A timer a second and one small file write is all it adds to the process.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
  // Asked by the soak (a file gc-<pid>) once its figures are read: one full collection, then what is left.
  // What it frees was garbage; what stays is held by something. A diagnostic only: the soak judges before it.
  const asked = join(dir, `gc-${process.pid}`);
  const collectIfAsked = () => {
    if (!existsSync(asked)) return;
    rmSync(asked, { force: true });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    // Read a second later: V8 releases dead ArrayBuffers' memory after the collection, off the main thread
    // (a front read 42 MiB of Buffers just after one; its heap snapshot held 8 MiB).
    setTimeout(() => {
      try {
        report();
      } catch {
        // the soak's folder went away
      }
    }, 1000).unref();
    const report = () => {
      const m = process.memoryUsage();
      writeFileSync(`${tmp}.gc`, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, rss: m.rss }));
      renameSync(`${tmp}.gc`, join(dir, `gc-${process.pid}.json`));
      // FAASBENCH_SOAK_HEAP_SNAPSHOT=MiB: where Buffers outlive that collection by more, a heap snapshot names their holder.
      const over = Number(process.env.FAASBENCH_SOAK_HEAP_SNAPSHOT);
      if (over > 0 && m.external > over * 2 ** 20) writeHeapSnapshot(join(dir, `held-${process.pid}.heapsnapshot`));
    };
  };
  write();
  setInterval(() => {
    write();
    try {
      collectIfAsked();
    } catch {
      // as above
    }
  }, 1000).unref();
}
