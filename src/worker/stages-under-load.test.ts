/**
 * The worker's stamps are where the stage names say, under load: queueing
 * lands in `worker queue`, never in `function`. Checked with the real worker
 * binary through facts that hold at any machine speed (which intervals may
 * overlap, what orders they keep, lower bounds a wait guarantees).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ReplyMessage } from '../rpc/protocol.js';
import { startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { mostAtOnce, rawRpc, type RawRpc } from '../testing/rpc-client.js';

const SLOW_MS = 60;

let dir: string;
let worker: RoleProcess & { address: string };
let rpc: RawRpc;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-stages-'));
  // A pool function that holds its thread for SLOW_MS without burning CPU, so the wait is the same on any machine.
  await writeFile(
    join(dir, 'slow.js'),
    `export default { mode: 'pool', run() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${SLOW_MS}); return { ok: true }; } };\n`,
  );
  await writeFile(join(dir, 'plain.js'), 'export default { run: () => ({}) };\n');
  await writeFile(join(dir, 'settled.js'), 'export default { async run() { return {}; } };\n');
  // The pool and the inline dispatch; instances have their own tests (instances.test.ts).
  worker = await startWorkerProcess(['--functions', dir, '--isolation', 'inline']);
  rpc = await rawRpc(worker.address);
});
after(async () => {
  rpc?.close();
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

const ms = (ns: bigint) => Number(ns) / 1e6;

test('a pool call waiting for a thread is booked as worker queue, not as function', async () => {
  const threads = availableParallelism();
  const calls = threads * 4;
  const replies = await rpc.burst(Array.from({ length: calls }, () => ({ fn: 'slow' })));
  for (const r of replies) assert.equal(r.err, undefined, JSON.stringify(r.err));
  // Each call's function stage is its own run: at least the wait it makes, whatever queued before it.
  for (const r of replies) assert.ok(ms(r.t3_end - r.t3_start) >= SLOW_MS - 1, `function ${ms(r.t3_end - r.t3_start)} ms`);
  // A thread runs one call at a time, so no more function intervals overlap than there are threads.
  // (Stamped at the hand-over to the pool, all of them would overlap at once.)
  const most = mostAtOnce(replies);
  assert.ok(most <= threads, `${most} functions ran at once on ${threads} threads`);
  // The calls beyond the threads waited for whole runs of others: that wait is worker queue.
  const queues = replies.map((r) => ms(r.t3_start - r.t3_recv)).sort((a, b) => a - b);
  assert.ok(queues.at(-1)! >= 3 * SLOW_MS - 1, `longest worker queue ${queues.at(-1)} ms`);
});

for (const fn of ['plain', 'settled']) {
  test(`calls read together: each ${fn} call's function ends before the next one starts`, async () => {
    const replies = await rpc.burst(Array.from({ length: 64 }, () => ({ fn })));
    for (const r of replies) assert.equal(r.err, undefined);
    // One write of 64 small frames arrives in one read or a few: the calls of one read share t3_recv.
    const byRead = new Map<bigint, ReplyMessage[]>();
    for (const r of replies) byRead.set(r.t3_recv, [...(byRead.get(r.t3_recv) ?? []), r]);
    const together = [...byRead.values()].sort((a, b) => b.length - a.length)[0]!;
    assert.ok(together.length >= 2, 'no two calls were read together');
    together.sort((a, b) => (a.t3_start < b.t3_start ? -1 : 1));
    for (let k = 1; k < together.length; k++) {
      const [prev, next] = [together[k - 1]!, together[k]!];
      // Dispatching a neighbour never falls inside a function: the intervals follow one another…
      assert.ok(prev.t3_end <= next.t3_start, `call ${k - 1} ended after call ${k} started`);
      // …and the later call's wait for it is its worker queue.
      assert.ok(next.t3_start - next.t3_recv >= prev.t3_end - prev.t3_recv);
    }
  });
}
