/**
 * --function-memory-mb holds Buffers and other memory outside the heap too
 * (issue 30, finding 13), in thread and process isolation, with the real
 * binary: a function that keeps far more than its limit in Buffers loses its
 * instance (out_of_memory) instead of answering ok, and the worker does not
 * keep the memory.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWorkerProcess } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-memory-'));
  await mkdir(join(dir, 'functions'));
  // Keeps args.mb MiB of Buffers for good (a cache that grows), or only for the call.
  await writeFile(
    join(dir, 'functions', 'hoard.mjs'),
    `const kept = [];
export default {
  run(args) {
    const chunks = [];
    for (let i = 0; i < args.mb; i++) chunks.push(Buffer.alloc(1024 * 1024, 1));
    if (args.keep) kept.push(...chunks);
    return { held: chunks.length };
  },
};
`,
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** RSS of a process and its children, in MB. */
function treeRssMb(pid: number): number {
  let kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children file
  }
  for (const c of children) kb += treeRssMb(Number(c)) * 1024;
  return kb / 1024;
}

for (const isolation of ['thread', 'process']) {
  test(`--isolation ${isolation}: Buffers count against --function-memory-mb`, async () => {
    const worker = await startWorkerProcess(['--functions', join(dir, 'functions'), '--isolation', isolation, '--function-memory-mb', '64']);
    try {
      const rpc = await rawRpc(worker.address);
      // Under the limit, for the call only: fine, again and again.
      for (let i = 0; i < 3; i++) assert.equal((await rpc.burst([{ fn: 'hoard', args: { mb: 32 } }]))[0]!.err, undefined);
      const base = treeRssMb(worker.proc.pid!);
      // Three times: keeping 512 MiB against a limit of 64 loses the instance, out_of_memory, at this call or the next.
      for (let round = 0; round < 3; round++) {
        const replies = [...(await rpc.burst([{ fn: 'hoard', args: { mb: 512, keep: true } }])), ...(await rpc.burst([{ fn: 'hoard', args: { mb: 1 } }]))];
        const codes = replies.map((r) => r.err?.code ?? 'ok');
        assert.ok(codes.includes('out_of_memory'), `round ${round}: ${codes.join(', ')}`);
        assert.match(replies.find((r) => r.err?.code === 'out_of_memory')!.err!.message, /memory limit of 64 MB/);
        // A new instance serves the next call.
        assert.equal((await rpc.burst([{ fn: 'hoard', args: { mb: 1 } }]))[0]!.err, undefined);
      }
      // The hoards went with their instances: not three of them held. (A thread's
      // memory returns to the worker's allocator, which keeps some for reuse.)
      const grew = treeRssMb(worker.proc.pid!) - base;
      assert.ok(grew < 800, `the worker holds ${grew.toFixed(0)} MB more after three hoards of 512 MiB`);
      rpc.close();
    } finally {
      await worker.stop();
    }
  });
}
