/**
 * One contract, five frameworks: the real worker and five real gateways, the
 * same requests, the same answers; and the records of every request join.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { FRAMEWORKS } from './adapters/adapter.js';

const SAMPLE = new URL('../../functions/assets/sample.jpg', import.meta.url);
const MAX_BODY = 200_000;

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: Buffer;
  status: number;
  /** Error code expected in a JSON error answer. */
  code?: string;
  check?: (res: Response, body: Buffer) => void;
}

let dir: string;
let worker: RoleProcess & { address: string };
const gateways = new Map<string, RoleProcess & { url: string }>();
let sample: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-contract-'));
  sample = await readFile(SAMPLE);
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson')]);
  await Promise.all(
    FRAMEWORKS.map(async (fw) => {
      gateways.set(fw, await startGatewayProcess(fw, worker.address, ['--log', join(dir, `gateway-${fw}.ndjson`), '--max-body-bytes', String(MAX_BODY)]));
    }),
  );
});

after(async () => {
  await Promise.all([...gateways.values()].map((g) => g.stop()));
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as Record<string, unknown>;
const isJpeg = (res: Response, body: Buffer) => {
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  assert.equal(body.readUInt16BE(0), 0xffd8, 'JPEG magic');
};

const cases = (): Case[] => [
  { name: 'empty', path: '/empty', status: 200, check: (_r, b) => assert.deepEqual(json(b), {}) },
  { name: 'sleep', path: '/sleep?ms=5', status: 200, check: (_r, b) => assert.deepEqual(json(b), { slept_ms: 5 }) },
  {
    name: 'math',
    path: '/math?n=20000',
    status: 200,
    check: (_r, b) => {
      const { pi, n } = json(b) as { pi: number; n: number };
      assert.equal(n, 20000);
      assert.ok(Math.abs(pi - Math.PI) < 0.1, `pi estimate ${pi}`);
    },
  },
  { name: 'image', path: '/image?width=64', status: 200, check: isJpeg },
  { name: 'image upload', method: 'POST', path: '/image?width=32', body: sample, status: 200, check: isJpeg },
  { name: 'empty upload', method: 'POST', path: '/image', body: Buffer.alloc(0), status: 400, code: 'bad_parameter' },
  { name: 'not an image', method: 'POST', path: '/image', body: Buffer.from('hello, not a jpeg'), status: 400, code: 'bad_input' },
  { name: 'too large', method: 'POST', path: '/image', body: Buffer.alloc(MAX_BODY + 1, 7), status: 413, code: 'payload_too_large' },
  { name: 'negative ms', path: '/sleep?ms=-1', status: 400, code: 'bad_parameter' },
  { name: 'huge ms', path: '/sleep?ms=999999', status: 400, code: 'bad_parameter' },
  { name: 'word ms', path: '/sleep?ms=abc', status: 400, code: 'bad_parameter' },
  { name: 'twice ms', path: '/sleep?ms=1&ms=2', status: 400, code: 'bad_parameter' },
  { name: 'zero n', path: '/math?n=0', status: 400, code: 'bad_parameter' },
  { name: 'float n', path: '/math?n=1.5', status: 400, code: 'bad_parameter' },
  { name: 'huge n', path: '/math?n=99999999999999999999', status: 400, code: 'bad_parameter' },
  { name: 'wide image', path: '/image?width=5000', status: 400, code: 'bad_parameter' },
  {
    name: 'payload json',
    path: '/payload?bytes=5000&format=json',
    status: 200,
    check: (r, b) => {
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(b.length, 5000);
      assert.ok(Array.isArray(json(b).items));
    },
  },
  {
    name: 'payload raw',
    path: '/payload?bytes=3000&format=raw',
    status: 200,
    check: (r, b) => {
      assert.equal(r.headers.get('content-type'), 'application/octet-stream');
      assert.equal(b.length, 3000);
    },
  },
  { name: 'payload empty', path: '/payload?bytes=0', status: 400, code: 'bad_parameter' },
  { name: 'payload above 8 MiB', path: '/payload?bytes=8388609', status: 400, code: 'bad_parameter' },
  { name: 'payload format', path: '/payload?format=xml', status: 400, code: 'bad_parameter' },
  { name: 'unknown route', path: '/nope', status: 404, code: 'not_found' },
  { name: 'nested route', path: '/empty/x', status: 404, code: 'not_found' },
  { name: 'wrong method', method: 'DELETE', path: '/empty', status: 405, code: 'method_not_allowed' },
  { name: 'post to math', method: 'POST', path: '/math', body: Buffer.from('x'), status: 405, code: 'method_not_allowed' },
];

/**
 * fetch, except for a body the gateway refuses unread (413): undici may fail
 * such a request when the server answers and closes before the body is sent;
 * node:http hands over the early answer and the write error is not a failure.
 */
function ask(url: string, method: string, body: Buffer | undefined, id: string): Promise<Response> {
  if (body === undefined || body.length <= MAX_BODY) return fetch(url, { method, body, headers: { 'x-request-id': id } });
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method, headers: { 'x-request-id': id, 'content-length': body.length } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: res.headers as Record<string, string> })));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

test('all five frameworks answer every case identically', async () => {
  const errorBodies = new Map<string, string>();
  for (const [fw, gw] of gateways) {
    for (const c of cases()) {
      const id = `contract-${fw}-${c.name.replace(/\W/g, '_')}`;
      const res = await ask(gw.url + c.path, c.method ?? 'GET', c.body, id);
      const body = Buffer.from(await res.arrayBuffer());
      const where = `${fw} ${c.method ?? 'GET'} ${c.path}`;
      assert.equal(res.status, c.status, `${where}: ${body.toString().slice(0, 200)}`);
      assert.equal(res.headers.get('x-request-id'), id, `${where}: request id echoed`);
      if (c.code) {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/, where);
        const error = json(body).error as { code: string; message: string };
        assert.equal(error.code, c.code, where);
        assert.ok(error.message.length > 0, where);
        const seen = errorBodies.get(c.name);
        if (seen === undefined) errorBodies.set(c.name, body.toString());
        else assert.equal(body.toString(), seen, `${where}: same error body as the other frameworks`);
      } else {
        c.check?.(res, body);
      }
    }
  }
});

test('a gateway makes an id when the caller sends none', async () => {
  const res = await fetch(`${gateways.get('node')!.url}/empty`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-request-id') ?? '', /^g[0-9a-f]{8}-/);
});

test('records of one request join by id, and stamps on one host are ordered', async () => {
  for (const gw of gateways.values()) await gw.stop();
  await worker.stop();
  const workerRecords = new Map((await readRecords(join(dir, 'worker.ndjson'))).map((r) => [r.id as string, r]));
  const stamp = (r: Record<string, unknown>, k: string) => BigInt(r[k] as string);
  for (const fw of FRAMEWORKS) {
    const records = await readRecords(join(dir, `gateway-${fw}.ndjson`));
    const ok = records.filter((r) => r.status === 200 && String(r.id).startsWith('contract-'));
    assert.equal(ok.length, cases().filter((c) => c.status === 200).length, `${fw}: one record per successful request`);
    for (const r of records) assert.equal(r.framework, fw);
    for (const r of ok) {
      const w = workerRecords.get(r.id as string);
      assert.ok(w, `${fw}: worker record for ${r.id}`);
      for (const k of ['t3_recv', 't3_start', 't3_end', 't3_send']) assert.equal(w[k], r[k], `${r.id} ${k} copied from the reply`);
      const order = ['t1', 't2', 't3_recv', 't3_start', 't3_end', 't3_send', 't4', 't5'].map((k) => stamp(r, k));
      for (let i = 1; i < order.length; i++) assert.ok(order[i - 1]! <= order[i]!, `${r.id}: stamps out of order at ${i}`);
    }
    const rejected = records.find((r) => r.id === `contract-${fw}-negative_ms`);
    assert.ok(rejected, `${fw}: a rejected request is recorded too`);
    assert.equal(rejected.status, 400);
    assert.equal(rejected.error, 'bad_parameter');
    assert.equal(rejected.t2, null);
  }
});
