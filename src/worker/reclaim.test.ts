/**
 * Memory a client made the worker hold is given back once it is let go
 * (issue 30), with the real binary: a client asks for twelve 8 MiB results
 * and reads none, the worker holds what its byte bound allows, the client
 * leaves; the worker, idle from then on, must come back to within 32 MiB of
 * its ArrayBuffer bytes before. Two things stood in the way, and the test
 * fails with either back: V8 alone keeps dead Buffers in an idle process
 * (nothing allocates, so nothing collects: src/reclaim.ts), and each
 * instance kept the result of the call that started it for as long as it
 * lived (instances.ts, watchDeath). Its memory is read from the file that
 * bench/soak-heap.js, preloaded, writes once a second; the waits are hang
 * guards, not timings.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeMessage } from '../rpc/codec.js';
import { startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

const MIB = 1024 * 1024;
let dir: string;
let worker: RoleProcess & { address: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-reclaim-'));
  const saved = { options: process.env.NODE_OPTIONS, heap: process.env.FAASBENCH_SOAK_HEAP_DIR };
  process.env.NODE_OPTIONS = `${saved.options ?? ''} --import=${new URL('../bench/soak-heap.js', import.meta.url).href}`.trim();
  process.env.FAASBENCH_SOAK_HEAP_DIR = dir;
  try {
    // Instances outlive the test (a long --keep-warm): what they hold must not include their calls' results.
    worker = await startWorkerProcess(['--keep-warm', '10m']);
  } finally {
    if (saved.options === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved.options;
    if (saved.heap === undefined) delete process.env.FAASBENCH_SOAK_HEAP_DIR;
    else process.env.FAASBENCH_SOAK_HEAP_DIR = saved.heap;
  }
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The worker's memory outside its JS heap (its Buffers), as last written; null before the first write. */
async function external(): Promise<number | null> {
  try {
    return (JSON.parse(await readFile(join(dir, `heap-${worker.proc.pid}.json`), 'utf8')) as { external: number }).external;
  } catch {
    return null;
  }
}

test('a client that asked for 96 MiB, read none and left: the idle worker gives the Buffers back', async () => {
  await waitFor(async () => (await external()) !== null, 30_000, 'the first memory file');
  const start = (await external())!;
  const [host, port] = [worker.address.slice(0, worker.address.lastIndexOf(':')), Number(worker.address.split(':').pop())];
  const socket = connect({ host, port });
  socket.pause();
  socket.on('error', () => {});
  const calls = Array.from({ length: 12 }, (_, i) => encodeMessage({ t: 'call', cid: i + 1, rid: `gone-${i}`, fn: 'payload', args: { bytes: 8 * MIB, format: 'raw' } }));
  socket.write(Buffer.concat([encodeMessage({ t: 'hello', v: 1 }), ...calls]));
  // The worker holds its byte bound of replies for this client (it logs that at once), and more came and went.
  await waitFor(() => worker.logs.some((l) => l.includes('their connection holds its limit of replies not read')), 120_000, 'the byte bound reached');
  await waitFor(async () => (await external())! - start >= 64 * MIB, 60_000, 'the held replies in the memory file');
  socket.destroy();
  // Idle from here: only the worker's own collection (reclaim.ts) frees the Buffers, and only those nothing references.
  await waitFor(async () => (await external())! - start < 32 * MIB, 120_000, 'the Buffers given back').catch(async (err: Error) => {
    throw new Error(`${err.message}: ${(((await external())! - start) / MIB).toFixed(0)} MiB over the start`);
  });
  assert.ok((await external())! - start < 32 * MIB);
  assert.ok(worker.logs.some((l) => l.includes('Buffers standing still: one full collection for the dead ones')), 'the collection is logged');
});
