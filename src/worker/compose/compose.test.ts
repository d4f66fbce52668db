/**
 * Functions that call functions, through the real binaries: a worker with
 * workflows and a node gateway per call mode (local, rpc, http), and the
 * coordinator function in an instance. A chain of 4 answers the right
 * result and its records join into a tree of 4 hops whose stages add up; a
 * fan-out of 8 runs in parallel (its critical path is one branch and the
 * fan-in); a cycle, a too-deep chain, a failing step and more nested calls
 * in flight than --max-nested-calls give their documented errors and the
 * worker goes on serving.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { joinTrees } from '../../analysis/read/tree.js';
import { criticalPath, HOP_STAGES, hopStages, summarizeTree } from '../../analysis/compute/composition.js';
import { readRecords, startRole, startWorkerProcess, waitFor, PATIENT, type RoleProcess } from '../../testing/processes.js';
import { connectedToWorker } from '../../run/role-process.js';
import { freePort } from '../../contract/addresses.js';

let dir: string;

const FUNCTIONS: Record<string, string> = {
  // A step of a chain: one more than it was given.
  'inc.mjs': `export default { run: (args) => ({ n: (Number(args.n) || 0) + 1 }) };`,
  // Calls itself n times through ctx.call: the depth it reached.
  'deep.mjs': `export default { async run(args, ctx) {
    const n = Number(args.n);
    if (n <= 0) return { depth: 0 };
    const below = await ctx.call('deep', { n: n - 1 });
    return { depth: below.depth + 1 };
  } };`,
  'fail.mjs': `export default { run() { throw new Error('kaput'); } };`,
  // Waits, so that parallel branches overlap whatever the machine's speed.
  'nap.mjs': `import { setTimeout } from 'node:timers/promises';
export default { async run(args) { await setTimeout(Number(args.ms) || 1); return { slept: true }; } };`,
  // Calls the workflow that called it: a cycle through a function.
  'back.mjs': `export default { run: (args, ctx) => ctx.call('loop', {}) };`,
};
const WORKFLOWS: Record<string, string> = {
  'chain4.yaml': 'steps:\n  - fn: inc\n    times: 4\n',
  'fan8.yaml': 'steps:\n  - parallel:\n      - fn: nap\n        args: { ms: 30 }\n        times: 8\n  - fn: inc\n',
  'fan4.yaml': 'steps:\n  - parallel:\n      - fn: nap\n        args: { ms: 30 }\n        times: 4\n  - fn: inc\n',
  'broken.yaml': 'steps:\n  - inc\n  - fn: fail\n    id: boom\n  - inc\n',
  'loop.yaml': 'steps:\n  - back\n',
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-compose-'));
  await mkdir(join(dir, 'fns'));
  await mkdir(join(dir, 'wfs'));
  for (const [f, text] of Object.entries(FUNCTIONS)) await writeFile(join(dir, 'fns', f), text);
  for (const [f, text] of Object.entries(WORKFLOWS)) await writeFile(join(dir, 'wfs', f), text);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Stack {
  worker: RoleProcess & { address: string };
  gateway: RoleProcess;
  url: string;
  workerLog: string;
  gatewayLog: string;
  stop(): Promise<void>;
}

/** A worker serving the test's functions and workflows, and a node gateway in front of it. */
async function stack(name: string, flags: string[]): Promise<Stack> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const workerLog = join(dir, `worker-${name}.ndjson`);
  const gatewayLog = join(dir, `gateway-${name}.ndjson`);
  const worker = await startWorkerProcess([
    '--functions', join(dir, 'fns'), '--workflows', join(dir, 'wfs'), '--log', workerLog, '--max-call-depth', '3',
    ...(flags.includes('http') ? ['--call-gateway', url] : []),
    ...flags,
  ]);
  const gateway = await startRole(['gateway', '--framework', 'node', '--port', String(port), '--worker', worker.address, '--log', gatewayLog], 'gateway listening', PATIENT);
  await connectedToWorker(gateway, 1, PATIENT.timeoutMs);
  return {
    worker,
    gateway,
    url,
    workerLog,
    gatewayLog,
    stop: async () => {
      await gateway.stop();
      await worker.stop();
    },
  };
}

async function get(s: Stack, path: string, id: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(s.url + path, { headers: { 'x-request-id': id }, signal: AbortSignal.timeout(PATIENT.timeoutMs) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const VARIANTS: [string, string[]][] = [
  ['local', ['--call-mode', 'local', '--isolation', 'inline']],
  ['rpc', ['--call-mode', 'rpc', '--isolation', 'inline']],
  ['http', ['--call-mode', 'http', '--isolation', 'inline']],
  ['local-coordinator-function', ['--call-mode', 'local', '--coordinator', 'function', '--isolation', 'thread']],
];

for (const [name, flags] of VARIANTS) {
  test(`${name}: a chain of 4 and a fan-out of 8 answer right, and their records join into trees whose stages add up`, { timeout: 300_000 }, async () => {
    const s = await stack(name, flags);
    try {
      const chain = await get(s, '/chain4?n=10', `chain-${name}`);
      assert.equal(chain.status, 200, JSON.stringify(chain.body));
      assert.deepEqual(chain.body, { n: 14 });
      const fan = await get(s, '/fan8', `fan-${name}`);
      assert.equal(fan.status, 200, JSON.stringify(fan.body));
      assert.deepEqual(fan.body, { n: 1 });
      // ctx.call from a function: deep calls itself twice (depth 3 with the root's call, within the limit).
      const deep = await get(s, '/deep?n=2', `deep-${name}`);
      assert.equal(deep.status, 200, JSON.stringify(deep.body));
      assert.deepEqual(deep.body, { depth: 2 });
    } finally {
      await s.stop();
    }
    const trees = joinTrees(await readRecords(s.workerLog), await readRecords(s.gatewayLog));
    const chain = trees.find((t) => t.id === `chain-${name}`);
    assert.ok(chain, `a tree for chain-${name}`);
    assert.equal(chain.hops.length, 4);
    assert.deepEqual(chain.hops.map((h) => h.fn), ['inc', 'inc', 'inc', 'inc']);
    assert.ok(chain.hops.every((h) => h.via === name.split('-')[0] && h.depth === 1));
    for (const h of chain.hops) {
      const st = hopStages(h);
      assert.ok(st, `hop ${h.id} has both sides`);
      const sum = HOP_STAGES.reduce((a, k) => a + (st[k] ?? 0), 0);
      assert.equal(sum, st.total, `hop ${h.id}: stages add up to the hop as its caller saw it`);
      assert.ok(st.function >= 0 && st.worker_queue >= 0 && st.worker_out >= 0, `hop ${h.id}: stages in order`);
      if (name.startsWith('http')) assert.ok(h.gateway, `hop ${h.id}: the gateway's record joined`);
    }
    // A sequence: each step made after the one before answered, so all four are on the critical path.
    assert.equal(summarizeTree(chain).critical.hops.length, 4);

    const fan = trees.find((t) => t.id === `fan-${name}`);
    assert.ok(fan, `a tree for fan-${name}`);
    assert.equal(fan.hops.length, 9);
    const path = criticalPath(fan.root);
    // One branch and the fan-in, not eight branches: the branches overlapped.
    assert.equal(path.hops.length, 2, JSON.stringify(path));
    assert.ok(path.parallelism > 2, `parallelism ${path.parallelism}`);

    const deep = trees.find((t) => t.id === `deep-${name}`);
    assert.ok(deep);
    assert.deepEqual(deep.hops.map((h) => h.depth), [1, 2]);
    assert.equal(deep.hops[1]!.parent, deep.hops[0]!.id);
  });
}

test('a cycle, a too-deep chain, a failing step and too many nested calls give their documented errors, and the worker goes on serving', { timeout: 300_000 }, async () => {
  // Four nested calls in flight at most: a fan-out of 8 starts all its branches at once, so the fifth is refused.
  const MAX_NESTED = 4;
  for (const [name, flags] of VARIANTS.slice(0, 3)) {
    const s = await stack(`errors-${name}`, [...flags, '--max-nested-calls', String(MAX_NESTED)]);
    try {
      const cycle = await get(s, '/loop', `cycle-${name}`);
      assert.equal(cycle.status, 508, JSON.stringify(cycle.body));
      assert.equal((cycle.body.error as { code: string }).code, 'call_cycle');
      assert.match((cycle.body.error as { message: string }).message, /loop → loop/);

      const deep = await get(s, '/deep?n=5', `deep-${name}`);
      assert.equal(deep.status, 508, JSON.stringify(deep.body));
      assert.equal((deep.body.error as { code: string }).code, 'call_depth_exceeded');
      assert.match((deep.body.error as { message: string }).message, /over the limit of 3 \(--max-call-depth\)/);

      const broken = await get(s, '/broken', `broken-${name}`);
      assert.equal((broken.body.error as { code: string }).code, 'function_error', JSON.stringify(broken.body));
      assert.match((broken.body.error as { message: string }).message, /workflow broken: step boom \(fail\) failed: .*kaput/);

      const many = await get(s, '/fan8', `many-${name}`);
      assert.equal(many.status, 503, JSON.stringify(many.body));
      assert.equal((many.body.error as { code: string }).code, 'too_many_calls');
      assert.match((many.body.error as { message: string }).message, /workflow fan8: step .*\(nap\) failed: the worker has 4 nested calls in flight, its limit \(--max-nested-calls\)/);

      // The branches it had begun run to their end (the failed workflow does not cancel them) and hold
      // the limit meanwhile; then the worker serves again, with no call left counted in flight.
      const answers: { status: number; body: Record<string, unknown> }[] = [];
      await waitFor(async () => {
        answers.push(await get(s, '/chain4', `after-${name}-${answers.length + 1}`));
        return answers.at(-1)!.status === 200;
      }, 60_000, 'a chain answered after the refused fan-out');
      assert.deepEqual(answers.at(-1)!.body, { n: 4 });
      for (const a of answers.slice(0, -1)) assert.equal((a.body.error as { code: string }).code, 'too_many_calls', JSON.stringify(a.body));
      const fan = await get(s, '/fan4', `fan4-${name}`);
      assert.equal(fan.status, 200, JSON.stringify(fan.body));
      assert.deepEqual(fan.body, { n: 1 });
    } finally {
      await s.stop();
    }
    // The refused calls are in the records, as the workflow saw them.
    const root = (await readRecords(s.workerLog)).find((r) => r.id === `many-${name}`);
    assert.ok(root, `a worker record for many-${name}`);
    const calls = root.calls as { fn: string; error: string | null }[];
    assert.ok(calls.some((c) => c.error === 'too_many_calls'), JSON.stringify(calls));
    assert.ok(calls.filter((c) => c.error !== 'too_many_calls').length <= MAX_NESTED, JSON.stringify(calls));
  }
});
