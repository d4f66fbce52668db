/**
 * Misbehaving functions and failing links, through a real gateway: each is
 * contained, answered with its documented error, and nothing else is lost.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
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

async function get(base: string, path: string, id?: string) {
  const res = await fetch(base + path, id ? { headers: { 'x-request-id': id } } : {});
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message ?? '' };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-faults-'));
  worker = await startWorkerProcess(['--allow-fault-functions', '--timeout-ms', '700', '--function-memory-mb', '64']);
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

test('each fault is contained with a clear error, and calls in flight beside it are answered', async () => {
  // A worker of its own, with records: they show that the calls beside each
  // fault were really in flight while it ran.
  const log = join(dir, 'worker.ndjson');
  const own = await startWorkerProcess(['--allow-fault-functions', '--timeout-ms', '700', '--function-memory-mb', '64', '--log', log]);
  const front = await startGatewayProcess('node', own.address);
  started.push(own, front);
  const expected: Record<string, [number, string, RegExp]> = {
    loop: [504, 'function_timeout', /fault ran past its limit of 700 ms/],
    alloc: [502, 'out_of_memory', /fault exceeded its memory limit of 64 MB/],
    throw: [502, 'function_error', /fault function threw on purpose/],
    exit: [502, 'function_crashed', /fault ended its thread/],
  };
  for (const [kind, [status, code, message]] of Object.entries(expected)) {
    // While the fault runs, inline (sleep) and pool (math) calls keep coming:
    // two sleep chains offset by 100 ms, so one is in flight at any moment.
    let faultDone = false;
    const chain = async (path: string, prefix: string) => {
      const out = [];
      for (let i = 0; i < 40 && !faultDone; i++) out.push(await get(front.url, path, `${kind}-${prefix}-${i}`));
      return out;
    };
    const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const beside = [chain('/sleep?ms=200', 'sleep-a'), delay(100).then(() => chain('/sleep?ms=200', 'sleep-b')), chain('/math?n=3000000', 'math')];
    await delay(30);
    const r = await get(front.url, `/fault?kind=${kind}`, `${kind}-fault`);
    faultDone = true;
    assert.equal(r.status, status, `${kind}: ${r.message}`);
    assert.equal(r.code, code, kind);
    assert.match(r.message, message, kind);
    for (const b of (await Promise.all(beside)).flat()) assert.equal(b.status, 200, `${kind}: a call beside it: ${b.message}`);
    // The next calls, inline and in the pool, are served normally.
    assert.equal((await get(front.url, '/math?n=1000')).status, 200, `${kind}: the pool serves again`);
    assert.equal((await get(front.url, '/empty')).status, 200, `${kind}: inline calls too`);
  }
  assert.equal(own.proc.exitCode, null, 'the worker is still running');
  assert.equal(await own.stop(), 0, 'and stops cleanly');
  const records = await readRecords(log);
  for (const kind of Object.keys(expected)) {
    const fault = records.find((r) => r.id === `${kind}-fault`);
    assert.ok(fault, `${kind}: a record of the fault`);
    assert.equal(fault.error, expected[kind]![1]);
    // The moment the fault was stopped (its thread terminated or lost), a call was in flight beside it.
    const end = BigInt(fault.t3_end as string);
    const beside = records.filter((r) => String(r.id).startsWith(`${kind}-sleep-`));
    assert.ok(beside.every((r) => r.error === null));
    assert.ok(
      beside.some((r) => BigInt(r.t3_recv as string) < end && BigInt(r.t3_send as string) > end),
      `${kind}: a call was in flight when the fault ended`,
    );
  }
});

test('a slow worker meets the gateway time limit, and its late reply is dropped', async () => {
  const log = join(dir, 'gateway-slow.ndjson');
  // Debug level: the gateway says when it drops a late reply.
  const level = process.env.FAASBENCH_LOG_LEVEL;
  process.env.FAASBENCH_LOG_LEVEL = 'debug';
  let front: Gateway;
  try {
    front = await startGatewayProcess('express', worker.address, ['--timeout-ms', '150', '--log', log]);
  } finally {
    if (level === undefined) delete process.env.FAASBENCH_LOG_LEVEL;
    else process.env.FAASBENCH_LOG_LEVEL = level;
  }
  started.push(front);
  const r = await get(front.url, '/sleep?ms=500', 'slow-1');
  assert.equal(r.status, 504);
  assert.equal(r.code, 'gateway_timeout');
  assert.match(r.message, /within 150 ms/);
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
