/**
 * Functions a user drops into a --functions directory, through the real
 * worker binary and all five real gateways, with no code change: the worker
 * announces them, every gateway serves them at /NAME, and an InputError
 * answers bad_input whether the function runs inline or in the pool.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { RpcClient } from '../rpc/client.js';
import { readRecords, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

let dir: string;
let worker: RoleProcess & { address: string };
let rpc: RpcClient;
const gateways = new Map<string, RoleProcess & { url: string }>();

const refuse = (mode: string) => `
class InputError extends Error { name = 'InputError'; }
export default {
  mode: '${mode}',
  run(args) {
    if (args.ok === 'yes') return { mode: '${mode}' };
    throw new InputError('${mode} wants ok=yes');
  },
};
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-userfns-'));
  await writeFile(join(dir, 'picky-inline.mjs'), refuse('inline'));
  await writeFile(join(dir, 'picky-pool.mjs'), refuse('pool'));
  await writeFile(join(dir, 'broken-pool.mjs'), `export default { mode: 'pool', run() { throw new TypeError('not input'); } };`);
  // Answers what it was given: the query as strings, a body as bytes.
  await writeFile(
    join(dir, 'echo.mjs'),
    `export default { run(args) {
      const { body, ...query } = args;
      return { query, body: body === undefined ? null : { binary: body instanceof Uint8Array, text: Buffer.from(body).toString() } };
    } };`,
  );
  worker = await startWorkerProcess(['--functions', dir]);
  await Promise.all(
    FRAMEWORKS.map(async (fw) => gateways.set(fw, await startGatewayProcess(fw, worker.address, ['--log', join(dir, `gateway-${fw}.ndjson`)]))),
  );
  rpc = new RpcClient({ workers: [worker.address], logger: pino({ level: 'silent' }), timeoutMs: 60_000, results: 'value' });
  await rpc.whenAnyReady();
});
after(async () => {
  await Promise.all([...gateways.values()].map((g) => g.stop()));
  rpc?.close();
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function call(fn: string, args: Record<string, unknown>) {
  const r = await rpc.call(`t-${fn}`, fn, args);
  assert.ok(r.ok, `the link carried the call to ${fn}`);
  return r.reply;
}

for (const mode of ['inline', 'pool']) {
  test(`an InputError thrown by a ${mode} function answers bad_input with its message`, async () => {
    const reply = await call(`picky-${mode}`, {});
    assert.deepEqual(reply.err, { code: 'bad_input', message: `${mode} wants ok=yes` });
    assert.deepEqual((await call(`picky-${mode}`, { ok: 'yes' })).result, { mode });
  });
}

test('any other error from a pool function is still function_error', async () => {
  const reply = await call('broken-pool', {});
  assert.equal(reply.err?.code, 'function_error');
  assert.match(reply.err?.message ?? '', /not input/);
});

const requestId = (fw: string, method: string, path: string) => `${fw}-${method}-${path.replace(/[^\w.:-]/g, '_')}`;

async function http(fw: string, method: string, path: string, body?: string) {
  const res = await fetch(gateways.get(fw)!.url + path, { method, body, headers: { 'x-request-id': requestId(fw, method, path) } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('every gateway serves a dropped-in function at /NAME: query as strings, body as bytes', async () => {
  for (const fw of FRAMEWORKS) {
    assert.deepEqual(await http(fw, 'GET', '/echo?a=1&b=x&b=y&c='), { status: 200, json: { query: { a: '1', b: ['x', 'y'], c: '' }, body: null } }, fw);
    assert.deepEqual(await http(fw, 'POST', '/echo?w=7', 'hello'), { status: 200, json: { query: { w: '7' }, body: { binary: true, text: 'hello' } } }, fw);
  }
});

test('through every gateway an InputError is 400 bad_input, inline and in the pool; other routes keep their answers', async () => {
  for (const fw of FRAMEWORKS) {
    for (const mode of ['inline', 'pool']) {
      const r = await http(fw, 'GET', `/picky-${mode}`);
      assert.deepEqual(r, { status: 400, json: { error: { code: 'bad_input', message: `${mode} wants ok=yes` } } }, `${fw} ${mode}`);
      assert.equal((await http(fw, 'GET', `/picky-${mode}?ok=yes`)).status, 200, `${fw} ${mode}`);
    }
    const others: Array<[string, string, number, string]> = [
      ['DELETE', '/echo', 405, 'method_not_allowed'],
      ['GET', '/nobody-announced-this', 404, 'not_found'],
      ['GET', '/echo/', 404, 'not_found'],
      // The bundled endpoints keep their strict parameters.
      ['GET', '/sleep?ms=abc', 400, 'bad_parameter'],
    ];
    for (const [method, path, status, code] of others) {
      const r = await http(fw, method, path);
      assert.equal(r.status, status, `${fw} ${method} ${path}`);
      assert.equal((r.json.error as { code: string }).code, code, `${fw} ${method} ${path}`);
    }
  }
  for (const fw of FRAMEWORKS) {
    const g = gateways.get(fw)!;
    assert.equal(await g.stop(), 0);
    const record = (await readRecords(join(dir, `gateway-${fw}.ndjson`))).find((r) => r.id === requestId(fw, 'GET', '/picky-pool'));
    assert.equal(record?.fn, 'picky-pool', `${fw}: the record names the function`);
    assert.equal(record?.error, 'bad_input');
  }
});
