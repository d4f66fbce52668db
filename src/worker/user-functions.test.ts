/**
 * Functions a user drops into a --functions directory, through the real
 * worker binary: an InputError answers bad_input whether the function runs
 * inline or in the pool.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { RpcClient } from '../rpc/client.js';
import { startWorkerProcess, type RoleProcess } from '../testing/processes.js';

let dir: string;
let worker: RoleProcess & { address: string };
let rpc: RpcClient;

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
  worker = await startWorkerProcess(['--functions', dir]);
  rpc = new RpcClient({ workers: [worker.address], logger: pino({ level: 'silent' }), timeoutMs: 60_000 });
  await rpc.whenAnyReady();
});
after(async () => {
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
