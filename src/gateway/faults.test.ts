/**
 * Misbehaving functions and failing links, through a real gateway: each is
 * contained, answered with its documented error, and nothing else is lost.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

type Worker = RoleProcess & { address: string };
type Gateway = RoleProcess & { url: string };
const started: RoleProcess[] = [];
let worker: Worker;
let gateway: Gateway;

async function get(base: string, path: string) {
  const res = await fetch(base + path);
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: body.error?.code, message: body.error?.message ?? '' };
}

before(async () => {
  worker = await startWorkerProcess(['--allow-fault-functions', '--timeout-ms', '700', '--function-memory-mb', '64']);
  gateway = await startGatewayProcess('fastify', worker.address);
  started.push(worker, gateway);
});
after(async () => {
  for (const p of started.reverse()) await p.stop();
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

test('each fault is contained, and a call in flight beside it is answered', async () => {
  const expected: Record<string, [number, string]> = {
    loop: [504, 'function_timeout'],
    alloc: [502, 'out_of_memory'],
    throw: [502, 'function_error'],
    exit: [502, 'function_crashed'],
  };
  for (const [kind, [status, code]] of Object.entries(expected)) {
    const beside = get(gateway.url, '/sleep?ms=200');
    const r = await get(gateway.url, `/fault?kind=${kind}`);
    assert.equal(r.status, status, `${kind}: ${r.message}`);
    assert.equal(r.code, code, kind);
    assert.equal((await beside).status, 200, `${kind}: the call beside it`);
    assert.equal((await get(gateway.url, '/math?n=1000')).status, 200, `${kind}: the pool serves again`);
  }
  assert.equal(worker.proc.exitCode, null, 'the worker is still running');
});

test('a slow worker meets the gateway time limit, and its late reply is dropped', async () => {
  const front = await startGatewayProcess('express', worker.address, ['--timeout-ms', '150']);
  started.push(front);
  const r = await get(front.url, '/sleep?ms=500');
  assert.equal(r.status, 504);
  assert.equal(r.code, 'gateway_timeout');
  await new Promise((resolve) => setTimeout(resolve, 500)); // the late reply arrives meanwhile
  assert.equal((await get(front.url, '/sleep?ms=1')).status, 200);
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
