/**
 * Results and uploads at and past the RPC frame limit, through the real
 * binaries: an oversized one fails its own call with a clear code, every other
 * call on the same worker link is answered, and the link stays up.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { RpcClient } from '../rpc/client.js';
import { MAX_BINARY_ARG_BYTES, MAX_FRAME_BYTES } from '../rpc/protocol.js';
import { CLI, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const started: RoleProcess[] = [];
let dir: string;
let worker: RoleProcess & { address: string };

async function answer(res: Response) {
  const text = res.headers.get('content-type')?.includes('json') ? await res.text() : '';
  return { status: res.status, code: text ? ((JSON.parse(text) as { error?: { code: string } }).error?.code ?? null) : null, text };
}

/** Six 1.5 s sleeps on the link while `offending` runs; all six must be answered 200. */
async function besideSleeps<T>(base: string, offending: () => Promise<T>): Promise<T> {
  const sleeps = Array.from({ length: 6 }, () => fetch(`${base}/sleep?ms=1500`).then(answer));
  await new Promise((r) => setTimeout(r, 200)); // the sleeps are in flight first
  const result = await offending();
  const statuses = (await Promise.all(sleeps)).map((s) => s.status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200], 'calls beside the oversized one are answered');
  return result;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-frames-'));
  // `image` replaced by a function whose result is over the frame limit at width 4096.
  const sleep = fileURLToPath(new URL('../../functions/sleep.js', import.meta.url));
  await writeFile(
    join(dir, 'image.mjs'),
    `export default { contentType: 'image/jpeg', run: (a) => new Uint8Array(a.width === 4096 ? ${MAX_FRAME_BYTES + 1024} : 10) };\n`,
  );
  await writeFile(join(dir, 'sleep.mjs'), `export { default } from ${JSON.stringify(sleep)};\n`);
  worker = await startWorkerProcess(['--functions', dir]);
  started.push(worker);
});
after(async () => {
  for (const p of started.reverse()) await p.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a result over the frame limit fails its call alone (502 result_too_large); the link stays up', async () => {
  const gw = await startGatewayProcess('node', worker.address);
  started.push(gw);
  const big = await besideSleeps(gw.url, () => fetch(`${gw.url}/image?width=4096`).then(answer));
  assert.equal(big.status, 502, big.text);
  assert.equal(big.code, 'result_too_large', big.text);
  assert.match(big.text, /frame limit/);
  const small = await fetch(`${gw.url}/image?width=10`);
  assert.equal(small.status, 200);
  assert.equal((await small.arrayBuffer()).byteLength, 10);
  assert.ok(!gw.logs.some((l) => l.includes('lost the worker')), 'the gateway never lost its worker link');
});

test('--max-body-bytes beyond what fits in a frame is refused with one line and exit 2', () => {
  const r = spawnSync(process.execPath, [CLI, 'gateway', '--framework', 'node', '--port', '0', '--max-body-bytes', '40000000'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.split('\n')[0]!, /--max-body-bytes must be an integer from 1 to \d+/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('an upload of the largest allowed size reaches the worker, beside calls in flight', async () => {
  const gw = await startGatewayProcess('fastify', worker.address, ['--max-body-bytes', String(MAX_BINARY_ARG_BYTES)]);
  started.push(gw);
  const body = new Uint8Array(MAX_BINARY_ARG_BYTES);
  // The stand-in image function answers 10 bytes for any width but 4096: the upload made the trip.
  const r = await besideSleeps(gw.url, () => fetch(`${gw.url}/image?width=10`, { method: 'POST', body }));
  assert.equal(r.status, 200);
  assert.equal((await r.arrayBuffer()).byteLength, 10);
});

test('the gateway never sends a call frame over the limit: that call alone gets payload_too_large', async () => {
  const rpc = new RpcClient({ workers: [worker.address], logger: pino({ level: 'silent' }), timeoutMs: 20_000 });
  try {
    await rpc.whenAnyReady();
    const beside = rpc.call('beside', 'sleep', { ms: 300 });
    const big = await rpc.call('big', 'image', { width: 10, image: new Uint8Array(MAX_FRAME_BYTES) });
    assert.equal(big.ok, false);
    assert.equal(!big.ok && big.code, 'payload_too_large');
    const b = await beside;
    assert.ok(b.ok && b.reply.err === undefined, 'the call beside it is answered');
    assert.equal(rpc.readyCount, 1, 'the link stays up');
  } finally {
    rpc.close();
  }
});
