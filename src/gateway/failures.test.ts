/**
 * What the gateway answers when the function or the worker fails, and that
 * both processes keep serving afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { PATIENT, startGatewayProcess, startRole, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

const realFunctions = new URL('../../functions/', import.meta.url).href;
let dir: string;
let worker: RoleProcess & { address: string };
let gateway: RoleProcess & { url: string };

async function get(path: string): Promise<{ status: number; code?: string; message?: string }> {
  const res = await fetch(gateway.url + path);
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-failures-'));
  // A functions directory where `empty` throws, beside the real sleep and math.
  await writeFile(join(dir, 'empty.mjs'), `export default { run() { throw new Error('boom from empty'); } };\n`);
  await writeFile(join(dir, 'sleep.mjs'), `export { default } from '${realFunctions}sleep.js';\n`);
  await writeFile(join(dir, 'math.mjs'), `export { default } from '${realFunctions}math.js';\n`);
  worker = await startWorkerProcess(['--functions', dir, '--timeout-ms', '1500']);
  gateway = await startGatewayProcess('node', worker.address);
});

after(async () => {
  await gateway?.stop();
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a throwing function gives 502 with its message, and the worker keeps serving', async () => {
  const r = await get('/empty');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'function_error');
  assert.match(r.message ?? '', /boom from empty/);
  assert.equal((await get('/sleep?ms=1')).status, 200);
});

test('a function past its limit gives 504, inline or in the pool, and the next call works', async () => {
  const slept = await get('/sleep?ms=20000');
  assert.equal(slept.status, 504);
  assert.equal(slept.code, 'function_timeout');
  const looped = await get('/math?n=9007199254740991');
  assert.equal(looped.status, 504);
  assert.equal(looped.code, 'function_timeout');
  assert.equal((await get('/math?n=1000')).status, 200);
  assert.equal((await get('/sleep?ms=1')).status, 200);
});

test('a stopped worker fails calls in flight at once with 502, and the gateway reconnects when it returns', async () => {
  const port = worker.address.split(':').pop()!;
  const inFlight = get('/sleep?ms=1000'); // below the 1500 ms limit
  await new Promise((r) => setTimeout(r, 50));
  await worker.stop('SIGKILL');
  const failed = await inFlight;
  assert.equal(failed.status, 502);
  assert.equal(failed.code, 'worker_unavailable');
  const whileGone = await get('/sleep?ms=1');
  assert.equal(whileGone.status, 502);
  assert.equal(whileGone.code, 'worker_unavailable');
  assert.match(whileGone.message ?? '', /no worker connected \(127\.0\.0\.1:\d+\)/);
  worker = await startWorkerProcess(['--functions', dir, '--timeout-ms', '1500'], Number(port));
  await waitFor(async () => (await get('/sleep?ms=1')).status === 200, 10_000, 'the gateway to reconnect');
});

test('while a worker is unreachable the gateway retries with growing waits, and says so to callers', async () => {
  // A "worker" that hangs up on every connection, noting when each came.
  const accepted: number[] = [];
  const sockets = new Set<Socket>();
  const fake = createServer((s) => {
    accepted.push(performance.now());
    s.destroy();
  });
  fake.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const port = (fake.address() as AddressInfo).port;
  const front = await startRole(['gateway', '--framework', 'node', '--port', '0', '--worker', `127.0.0.1:${port}`], 'gateway listening', PATIENT);
  try {
    await waitFor(() => accepted.length >= 6, 15_000, 'six connection attempts');
    // Each wait is the one before doubled, from 50 ms. A timer never fires
    // early, but this process sees each accept late by however long a busy
    // machine keeps it from running, which can shorten the gap it measures:
    // hence 80% of each wait as the lower bound.
    const gaps = accepted.slice(1, 6).map((t, i) => t - accepted[i]!);
    gaps.forEach((gap, i) => assert.ok(gap >= 0.8 * 50 * 2 ** i, `wait ${i + 1} was ${gap.toFixed(1)} ms, expected >= ${50 * 2 ** i} ms: ${gaps.map((g) => g.toFixed(0)).join(', ')}`));
    const res = await fetch(`${front.ready.url as string}/empty`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 502);
    assert.equal(body.error.code, 'worker_unavailable');
    assert.match(body.error.message, new RegExp(`no worker connected \\(127\\.0\\.0\\.1:${port}\\)`));
  } finally {
    await front.stop();
    for (const s of sockets) s.destroy();
    await new Promise((r) => fake.close(r));
  }
});
