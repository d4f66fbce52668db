/**
 * Misbehaving functions and failing links, through a real gateway: each is
 * contained, answered with its documented error, and nothing else is lost.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

type Worker = RoleProcess & { address: string };

/** A port nothing listens on (it was bound and released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
type Gateway = RoleProcess & { url: string };
const started: RoleProcess[] = [];
let worker: Worker;
let gateway: Gateway;

let dir: string;

const bundled = new URL('../../functions/', import.meta.url).href;

async function fetchJson(base: string, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(base + path)).json()) as Record<string, unknown>;
}

async function get(base: string, path: string, id?: string) {
  const res = await fetch(base + path, id ? { headers: { 'x-request-id': id } } : {});
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message ?? '' };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-faults-'));
  worker = await startWorkerProcess(['--allow-fault-functions', '--function-memory-mb', '64']);
  gateway = await startGatewayProcess('fastify', worker.address);
  started.push(worker, gateway);
});
after(async () => {
  for (const p of started.reverse()) await p.stop();
  await rm(dir, { recursive: true, force: true });
});

test('fault functions are off unless the worker allows them', async () => {
  const plain = await startWorkerProcess();
  const front = await startGatewayProcess('node', plain.address);
  started.push(plain, front);
  const r = await get(front.url, '/fault?kind=throw');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'unknown_function');
  assert.match(r.message, /--allow-fault-functions/);
});

/** Waits until released: a call that stays in flight for exactly as long as a test needs it. */
const HOLD = `
const waiting = [];
export default {
  async run(args) {
    if (args.release !== undefined) return { released: waiting.splice(0).map((go) => go()).length };
    if (args.count !== undefined) return { waiting: waiting.length };
    await new Promise((go) => waiting.push(go));
    return { held: true };
  },
};
`;

test('each fault is contained with a clear error, and calls in flight beside it are answered', async () => {
  const fns = join(dir, 'functions');
  await mkdir(fns);
  await writeFile(join(fns, 'hold.mjs'), HOLD);
  for (const name of ['sleep', 'math', 'empty']) await writeFile(join(fns, `${name}.mjs`), `export { default } from '${bundled}${name}.js';\n`);
  // Workers of their own, with records. Only the loop may meet a time limit;
  // the others run under the default 30 s, so that however slow the machine
  // is at the moment, alloc meets its heap limit first.
  const logs = { quick: join(dir, 'worker-quick.ndjson'), patient: join(dir, 'worker-patient.ndjson') };
  // The inline-and-pool model (hold's state lives in one module); instances have their own tests in src/worker.
  const common = ['--functions', fns, '--allow-fault-functions', '--function-memory-mb', '64', '--isolation', 'inline'];
  const quick = await startWorkerProcess([...common, '--timeout-ms', '4000', '--log', logs.quick]);
  const patient = await startWorkerProcess([...common, '--log', logs.patient]);
  const fronts = { quick: await startGatewayProcess('node', quick.address), patient: await startGatewayProcess('node', patient.address) };
  started.push(quick, patient, fronts.quick, fronts.patient);
  const expected: Record<string, [keyof typeof logs, number, string, RegExp]> = {
    loop: ['quick', 504, 'function_timeout', /fault ran past its limit of 4000 ms/],
    alloc: ['patient', 502, 'out_of_memory', /fault exceeded its memory limit of 64 MB/],
    throw: ['patient', 502, 'function_error', /fault function threw on purpose/],
    exit: ['patient', 502, 'function_crashed', /fault ended its thread/],
  };
  for (const [kind, [which, status, code, message]] of Object.entries(expected)) {
    const front = fronts[which];
    // A call held in flight until the fault has answered, so it certainly
    // spans the moment the fault was stopped. Not beside the loop: the loop's
    // time limit is every call's, and would stop the held call first.
    const held = which === 'patient' ? get(front.url, '/hold', `${kind}-held`) : null;
    if (held) await waitFor(async () => (await fetchJson(front.url, '/hold?count=1')).waiting === 1, 60_000, 'the held call');
    // While the fault runs, inline (sleep) and pool (math) calls keep coming.
    let faultDone = false;
    const chain = async (path: string, prefix: string) => {
      const out = [];
      for (let i = 0; i < 40 && !faultDone; i++) out.push(await get(front.url, path, `${kind}-${prefix}-${i}`));
      return out;
    };
    // Beside the loop, whose time limit is every call's, the pool call is a small one: on a crowded machine a
    // long one could meet that limit itself.
    const beside = [chain('/sleep?ms=200', 'sleep'), chain(which === 'quick' ? '/math?n=1000' : '/math?n=300000', 'math')];
    const r = await get(front.url, `/fault?kind=${kind}`, `${kind}-fault`);
    faultDone = true;
    assert.equal(r.status, status, `${kind}: ${r.message}`);
    assert.equal(r.code, code, kind);
    assert.match(r.message, message, kind);
    if (held) {
      assert.deepEqual(await fetchJson(front.url, '/hold?release=1'), { released: 1 });
      assert.equal((await held).status, 200, `${kind}: the held call is answered`);
    }
    for (const b of (await Promise.all(beside)).flat()) assert.equal(b.status, 200, `${kind}: a call beside it: ${b.message}`);
    // The next calls, inline and in the pool, are served normally.
    assert.equal((await get(front.url, '/math?n=1000')).status, 200, `${kind}: the pool serves again`);
    assert.equal((await get(front.url, '/empty')).status, 200, `${kind}: inline calls too`);
  }
  for (const own of [quick, patient]) {
    assert.equal(own.proc.exitCode, null, 'the worker is still running');
    assert.equal(await own.stop(), 0, 'and stops cleanly');
  }
  const records = [...(await readRecords(logs.quick)), ...(await readRecords(logs.patient))];
  for (const [kind, [which, , code]] of Object.entries(expected)) {
    const fault = records.find((r) => r.id === `${kind}-fault`);
    assert.ok(fault, `${kind}: a record of the fault`);
    assert.equal(fault.error, code);
    assert.ok(records.filter((r) => String(r.id).startsWith(`${kind}-sleep-`)).every((r) => r.error === null));
    if (which !== 'patient') continue;
    // The held call was in flight when the fault was stopped (its thread terminated or lost).
    const end = BigInt(fault.t3_end as string);
    const held = records.find((r) => r.id === `${kind}-held`);
    assert.equal(held?.error, null, `${kind}: the held call succeeded`);
    assert.ok(BigInt(held.t3_recv as string) < end && BigInt(held.t3_send as string) > end, `${kind}: the held call spans the fault's end`);
  }
});

test('a slow worker meets the gateway time limit, and its late reply is dropped', async () => {
  const log = join(dir, 'gateway-slow.ndjson');
  // Debug level: the gateway says when it drops a late reply.
  const level = process.env.FAASBENCH_LOG_LEVEL;
  process.env.FAASBENCH_LOG_LEVEL = 'debug';
  let front: Gateway;
  try {
    front = await startGatewayProcess('express', worker.address, ['--timeout-ms', '1000', '--log', log]);
  } finally {
    if (level === undefined) delete process.env.FAASBENCH_LOG_LEVEL;
    else process.env.FAASBENCH_LOG_LEVEL = level;
  }
  started.push(front);
  const r = await get(front.url, '/sleep?ms=2500', 'slow-1');
  assert.equal(r.status, 504);
  assert.equal(r.code, 'gateway_timeout');
  assert.match(r.message, /within 1000 ms/);
  await waitFor(() => front.logs.some((l) => l.includes('late reply dropped')), 10_000, 'the late reply');
  assert.equal((await get(front.url, '/sleep?ms=1', 'after-1')).status, 200);
  assert.equal(await front.stop(), 0);
  const records = (await readRecords(log)).filter((rec) => rec.id === 'slow-1');
  assert.equal(records.length, 1, 'one record for the timed-out call, none for its late reply');
  assert.equal(records[0]!.status, 504);
  assert.equal(records[0]!.error, 'gateway_timeout');
  assert.deepEqual(front.logs.filter((l) => /"level":(50|60)/.test(l)), [], 'no error logged');
});

test('with several workers, calls spread across the connected ones; one unreachable fails none', async () => {
  const a = await startWorkerProcess();
  const b = await startWorkerProcess();
  started.push(a, b);
  const log = join(dir, 'gateway-spread.ndjson');
  const unreachable = await closedPort();
  const front = await startGatewayProcess('koa', `${a.address},127.0.0.1:${unreachable},${b.address}`, ['--log', log]);
  started.push(front);
  await waitFor(() => front.logs.filter((l) => l.includes('"connected to worker"')).length === 2, 10_000, 'both workers');
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await get(front.url, '/empty')).status);
  assert.deepEqual(statuses, Array(20).fill(200));
  assert.equal(await front.stop(), 0);
  const perWorker = new Map<unknown, number>();
  for (const r of await readRecords(log)) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
  assert.deepEqual([...perWorker.keys()].sort(), [a.address, b.address].sort(), 'calls went to both workers, none elsewhere');
  assert.deepEqual([...perWorker.values()], [10, 10], 'round-robin');
});

test('with two workers, one failing does not fail the calls the other can take', async () => {
  const a = await startWorkerProcess();
  const b = await startWorkerProcess();
  started.push(a, b);
  const front = await startGatewayProcess('hono', `${a.address},${b.address}`);
  started.push(front);
  await waitFor(() => front.logs.filter((l) => l.includes('"connected to worker"')).length === 2, 10_000, 'both workers');
  await a.stop('SIGKILL');
  await waitFor(() => front.logs.some((l) => l.includes('lost the worker')), 5000, 'the gateway to notice');
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await get(front.url, '/empty')).status);
  assert.deepEqual(statuses, Array(20).fill(200));
});
