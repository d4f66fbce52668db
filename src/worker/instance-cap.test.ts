/**
 * One cap on the worker's instances, all functions together (issue 30,
 * finding 14), with the real binary: many functions called at once never
 * start more than --max-instances-total, and every call is still answered.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, runCli, startWorkerProcess, waitFor } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;
const FUNCTIONS = 12;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-instance-cap-'));
  await mkdir(join(dir, 'functions'));
  for (let i = 0; i < FUNCTIONS; i++) {
    await writeFile(
      join(dir, 'functions', `f${i}.mjs`),
      'export default { async run(args, { instance }) { await new Promise((r) => setTimeout(r, args.ms ?? 0)); return { instance }; } };\n',
    );
  }
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Threads of a process now. */
const threadsOf = (pid: number) => Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

test('--max-instances-total caps the instances of all functions together; every call is answered', async () => {
  const file = join(dir, 'worker.ndjson');
  const worker = await startWorkerProcess(['--functions', join(dir, 'functions'), '--max-instances', '4', '--max-instances-total', '6', '--log', file, '--sample-interval-ms', '100']);
  try {
    const rpc = await rawRpc(worker.address);
    const idle = threadsOf(worker.proc.pid!);
    let most = idle;
    const poll = setInterval(() => (most = Math.max(most, threadsOf(worker.proc.pid!))), 10);
    // 12 functions × 3 calls at once: 36 instances (36 threads) without the cap.
    const calls = Array.from({ length: FUNCTIONS * 3 }, (_, k) => ({ fn: `f${k % FUNCTIONS}`, args: { ms: 200 } }));
    const replies = await rpc.burst(calls, 120_000).finally(() => clearInterval(poll));
    rpc.close();
    assert.deepEqual(replies.map((r) => r.err?.code ?? 'ok'), calls.map(() => 'ok'));
    assert.ok(new Set(replies.map((r) => (r.result as { instance: string }).instance)).size >= FUNCTIONS, 'every function got an instance');
    // An instance is a thread: at most 6 more than idle (and a few of node's own, started on demand).
    assert.ok(most - idle <= 10, `the worker went from ${idle} to ${most} threads`);
    await waitFor(async () => (await readRecords(file, 'samples')).length >= 3, 10_000, 'saturation samples');
    for (const s of await readRecords(file, 'samples')) assert.ok((s.instances as number) <= 6, `a sample saw ${String(s.instances)} instances`);
  } finally {
    await worker.stop();
  }
});

test('--min-instances beyond --max-instances-total is refused at start, one line, exit 2', async () => {
  const r = await runCli(['worker', '--port', '0', '--functions', join(dir, 'functions'), '--min-instances', '1', '--max-instances-total', '6'], { timeoutMs: 60_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--min-instances 1 for 12 functions needs 12 instances, more than --max-instances-total 6/);
});
