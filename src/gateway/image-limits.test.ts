/**
 * The image function's bounds, through the real binaries: an upscale bomb is
 * refused from its header before any pixel is made, the largest allowed output
 * still works, and the concurrency setting is checked at start.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { startGatewayProcess, startRole, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const started: RoleProcess[] = [];
let url: string;

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } }).png({ compressionLevel: 9 }).toBuffer();

async function post(path: string, body: Uint8Array) {
  const res = await fetch(url + path, { method: 'POST', body });
  const json = res.headers.get('content-type')?.includes('json');
  const text = json ? await res.text() : '';
  const bytes = json ? 0 : (await res.arrayBuffer()).byteLength;
  return { status: res.status, text, bytes, code: json ? (JSON.parse(text) as { error: { code: string } }).error.code : null };
}

before(async () => {
  // A short limit: before the output bound, the bomb ran into it (504) instead of a 400.
  // Inline, as docs/functions.md describes the image bounds; an instance's cold start would count against the limit.
  const worker = await startWorkerProcess(['--timeout-ms', '8000', '--isolation', 'inline']);
  started.push(worker);
  const gateway = await startGatewayProcess('node', worker.address);
  started.push(gateway);
  url = gateway.url;
});
after(async () => {
  for (const p of started.reverse()) await p.stop();
});

test('an upscale bomb (64 x 1016 to 4096 wide) is refused: 400 bad_input naming the limit', async () => {
  const bomb = await png(64, 1016);
  assert.ok(bomb.length < 2000, 'a tiny upload');
  const r = await post('/image?width=4096', bomb);
  assert.equal(r.status, 400, r.text);
  assert.equal(r.code, 'bad_input');
  assert.match(r.text, /4096 x 65024 = 266338304 pixels; the limit is 16777216/);
});

test('the output bound is exact: 4096 x 4096 is served, one row more is refused', async () => {
  const over = await post('/image?width=4096', await png(16, 17));
  assert.equal(over.status, 400, over.text);
  assert.equal(over.code, 'bad_input');
  const at = await post('/image?width=4096', await png(16, 16));
  assert.equal(at.status, 200, at.text);
  const meta = await sharp(Buffer.from(await (await fetch(url + '/image?width=8', { method: 'POST', body: await png(16, 16) })).arrayBuffer())).metadata();
  assert.deepEqual([meta.width, meta.height, meta.format], [8, 8, 'jpeg']);
  assert.ok(at.bytes > 0);
});

test('FAASBENCH_IMAGE_CONCURRENCY must be a positive integer: the worker says so at start', async () => {
  const saved = process.env.FAASBENCH_IMAGE_CONCURRENCY;
  process.env.FAASBENCH_IMAGE_CONCURRENCY = 'lots';
  try {
    await assert.rejects(startRole(['worker', '--port', '0'], 'worker listening'), /FAASBENCH_IMAGE_CONCURRENCY must be a positive integer, got "lots"/);
  } finally {
    if (saved === undefined) delete process.env.FAASBENCH_IMAGE_CONCURRENCY;
    else process.env.FAASBENCH_IMAGE_CONCURRENCY = saved;
  }
});
