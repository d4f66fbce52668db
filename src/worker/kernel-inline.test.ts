/**
 * Kernel stamps on an inline worker, the rehearsal's and `faasbench run`'s
 * worker (issue 28): its spawn hook once killed the worker's own bpftrace as a
 * child of no call, and the worker exited at start. Needs root and bpftrace:
 * skipped with the reason without them, a failure under CI as root.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { kernelSkipReason } from '../testing/kernel-skip.js';
import { startWorkerProcess } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';

const skip = await kernelSkipReason({ role: 'worker', sends: false, dial: false });

test('an inline worker with --kernel-stamps keeps its tracer: it starts, answers, and its records hold the tracer start, the call and the stop', { skip: skip ?? false, timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-own-spawn-'));
  const log = join(dir, 'worker.ndjson');
  try {
    const worker = await startWorkerProcess(['--host', '127.0.0.1', '--isolation', 'inline', '--kernel-stamps', '--log', log]);
    let code: number | null = null;
    try {
      const rpc = await rawRpc(worker.address);
      const [reply] = await rpc.burst([{ fn: 'empty' }]);
      assert.equal(reply!.err, undefined, JSON.stringify(reply!.err));
      rpc.close();
    } finally {
      code = await worker.stop();
    }
    assert.equal(code, 0, worker.logs.slice(-5).join('\n'));
    const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const kernel = lines.filter((l) => l.type === 'kernel');
    assert.equal(kernel.filter((l) => l.k === 'start').length, 1, 'one tracer start');
    const stop = kernel.filter((l) => l.k === 'stop');
    assert.equal(stop.length, 1, 'one tracer stop: the tracer lived until the worker closed');
    assert.equal(stop[0]!.lost, 0);
    assert.equal(stop[0]!.tracer_said, undefined, `bpftrace said: ${String(stop[0]!.tracer_said)}`);
    assert.ok(kernel.some((l) => l.k === 'seg' || l.k === 'msg'), `the call's segment was traced: ${kernel.map((l) => l.k).join(' ')}`);
    assert.equal(lines.filter((l) => l.type === undefined && l.role === 'worker').length, 1, 'the call is recorded');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
