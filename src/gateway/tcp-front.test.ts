/**
 * The TCP front and the direct mode, with the real binary: a worker, a
 * `gateway --framework tcp`, and `caller --url tcp://…`; the records of every
 * request join across the roles, with the HTTP fronts' stamps.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, runCli, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

let dir: string;
let worker: RoleProcess & { address: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-tcp-'));
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson')]);
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

const call = async (url: string, out: string) => {
  const run = await runCli(['caller', '--url', url, '--connections', '3', '--requests', '30', '--warmup', '0s', '--out', out, '--json'], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  const records = await readRecords(out);
  const callers = records.filter((r) => r.role === 'caller');
  assert.equal(callers.length, 30);
  return { callers, standIns: records.filter((r) => r.role === 'gateway') };
};

/** The running worker's records of these calls: it writes them within 200 ms, not at once. */
const workerRecords = async (callers: Record<string, unknown>[]) => {
  const file = join(dir, 'worker.ndjson');
  const ids = callers.map((c) => c.id);
  await waitFor(async () => {
    const seen = new Set((await readRecords(file)).map((r) => r.id));
    return ids.every((id) => seen.has(id));
  }, 30_000, 'the worker records of every call');
  return new Map((await readRecords(file)).map((r) => [r.id, r]));
};

test('caller → TCP front → worker: every request answered, its records joined, t1 and t5 at the front', async () => {
  const front = await startGatewayProcess('tcp', worker.address, ['--balance', 'p2c', '--log', join(dir, 'front.ndjson')]);
  assert.match(front.url, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  let callers: Record<string, unknown>[];
  try {
    const run = await call(`${front.url}/payload?bytes=2000&format=json`, join(dir, 'caller.ndjson'));
    assert.equal(run.standIns.length, 0, 'the caller knows a front from a worker');
    callers = run.callers;
  } finally {
    await front.stop();
  }
  const gateway = new Map((await readRecords(join(dir, 'front.ndjson'))).map((r) => [r.id, r]));
  const workers = await workerRecords(callers);
  for (const c of callers) {
    assert.equal(c.status, 200);
    // As msgpack, a little smaller than its 2000 bytes of JSON.
    assert.ok((c.bytes as number) > 1500, `the payload came over the wire: ${String(c.bytes)} bytes`);
    const g = gateway.get(c.id);
    const w = workers.get(c.id);
    assert.ok(g && w, `front and worker records for ${String(c.id)}`);
    assert.equal(g.framework, 'tcp');
    assert.deepEqual([g.balance, g.workers], ['p2c', 1], 'the front balances as an HTTP gateway does, and says so');
    assert.equal(g.fn, 'payload?bytes=2000&format=json');
    assert.equal(g.status, 200);
    for (const k of ['t3_recv', 't3_start', 't3_end', 't3_send']) assert.equal(g[k], w[k]);
    const order = ['t1', 't2', 't3_recv', 't3_start', 't3_end', 't3_send', 't4', 't5'].map((k) => BigInt(g[k] as string));
    for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]! <= order[i]!, `stamps in order at ${i}`);
    // One host, one clock: the front's handling lies inside the caller's roundtrip.
    assert.ok(BigInt(c.t0 as string) <= order[0]! && order[7]! <= BigInt(c.t6 as string) + 50_000_000n);
  }
});

test('direct mode: caller → worker with no front, records joined through a stand-in front; a refused parameter is one line and exit 2', async () => {
  const { callers, standIns } = await call(`tcp://${worker.address}/math?n=1000`, join(dir, 'direct.ndjson'));
  const workers = await workerRecords(callers);
  const fronts = new Map(standIns.map((r) => [r.id, r]));
  for (const c of callers) {
    assert.equal(c.status, 200);
    const w = workers.get(c.id);
    assert.ok(w, `worker record for ${String(c.id)}`);
    assert.equal(w.fn, 'math');
    const g = fronts.get(c.id);
    assert.ok(g, `stand-in front record for ${String(c.id)}`);
    assert.equal(g.framework, 'direct');
    assert.deepEqual([g.balance, g.workers], ['none', 1], 'no balancer: the connections keep their worker');
    assert.deepEqual([g.t1, g.t2, g.t4, g.t5], [c.t0, c.t0, c.t6, c.t6], 'a front that takes no time');
    for (const k of ['t3_recv', 't3_start', 't3_end', 't3_send']) assert.equal(g[k], w[k]);
  }
  for (const url of [`tcp://${worker.address}/math?n=0`, 'tcp://127.0.0.1/empty', `tcp://${worker.address}/`]) {
    const run = await runCli(['caller', '--url', url, '--requests', '1'], { timeoutMs: 60_000 });
    assert.equal(run.code, 2, url);
    assert.equal(run.stderr.trim().split('\n')[0]!.startsWith('faasbench: '), true, run.stderr);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('flags that do not fit the front are one line and exit 2', async () => {
  for (const args of [
    ['gateway', '--framework', 'tcp', '--compression', 'gzip', '--port', '0'],
    ['gateway', '--framework', 'fastify', '--compression', 'zstd', '--port', '0'],
  ]) {
    const run = await runCli(args, { timeoutMs: 60_000 });
    assert.equal(run.code, 2, args.join(' '));
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.match(run.stderr, /compression/);
  }
});
