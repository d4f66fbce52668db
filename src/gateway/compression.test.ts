/**
 * Compression, one contract for five frameworks: the real worker and real
 * gateways started with --compression, raw HTTP (no client that decodes on
 * its own), the same encodings and the same decoded bodies from all five.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { readRecords, runCli, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { FRAMEWORKS } from './adapters/adapter.js';
import { acceptsCoding, COMPRESSION_THRESHOLD_BYTES, type Coding } from './compression.js';

interface Raw {
  status: number;
  encoding: string | undefined;
  wire: Buffer;
  decoded: Buffer;
}

function get(url: string, acceptEncoding?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const wire = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        const decoded = encoding === 'gzip' ? gunzipSync(wire) : encoding === 'br' ? brotliDecompressSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, encoding, wire, decoded });
      });
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

let dir: string;
let worker: RoleProcess & { address: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-compression-'));
  worker = await startWorkerProcess();
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** [path, Accept-Encoding sent, whether the answer comes compressed] */
const cases = (coding: Coding): [string, string | undefined, boolean][] => [
  ['/payload?bytes=4096&format=json', coding, true],
  ['/payload?bytes=4096&format=raw', coding, true],
  ['/payload?bytes=4096&format=json', 'gzip, br, deflate', true],
  ['/payload?bytes=4096&format=json', undefined, false],
  ['/payload?bytes=4096&format=json', `${coding};q=0`, false],
  ['/payload?bytes=4096&format=json', 'deflate', false],
  [`/payload?bytes=${COMPRESSION_THRESHOLD_BYTES - 1}`, coding, false],
  ['/empty', coding, false],
  ['/image?width=64', coding, false],
];

for (const coding of ['gzip', 'br'] as const) {
  test(`--compression ${coding}: all five frameworks compress alike, and only when asked`, async () => {
    const gateways = await Promise.all(FRAMEWORKS.map((fw) => startGatewayProcess(fw, worker.address, ['--compression', coding])));
    try {
      for (const [path, accept, compressed] of cases(coding)) {
        const answers = await Promise.all(gateways.map((g) => get(g.url + path, accept)));
        const first = answers[0]!;
        answers.forEach((a, i) => {
          const where = `${FRAMEWORKS[i]} ${path} accept-encoding ${accept ?? '(none)'}`;
          assert.equal(a.status, 200, where);
          assert.equal(a.encoding, compressed ? coding : undefined, where);
          if (compressed) assert.ok(a.wire.length < a.decoded.length, `${where}: fewer bytes on the wire`);
          assert.deepEqual(a.decoded, first.decoded, `${where}: the same decoded body as ${FRAMEWORKS[0]}`);
        });
      }
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
    }
  });
}

test('the caller asks with --accept-encoding and records the bytes on the wire; the gateway records the front as framework+coding', async () => {
  const gzipLog = join(dir, 'gateway.ndjson');
  const gateway = await startGatewayProcess('express', worker.address, ['--compression', 'gzip', '--log', gzipLog]);
  const bytesOf = async (extra: string[], out: string) => {
    const url = `${gateway.url}/payload?bytes=65536&format=json`;
    const run = await runCli(['caller', '--url', url, '--connections', '2', '--requests', '20', '--warmup', '0s', '--out', out, ...extra], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    const records = await readRecords(out);
    assert.equal(records.length, 20);
    for (const r of records) assert.equal(r.status, 200);
    return records.map((r) => r.bytes as number);
  };
  try {
    const plain = await bytesOf([], join(dir, 'plain.ndjson'));
    const zipped = await bytesOf(['--accept-encoding', 'gzip'], join(dir, 'gzip.ndjson'));
    for (const b of plain) assert.ok(b > 65536, `uncompressed answer of ${b} bytes`);
    for (const b of zipped) assert.ok(b < 65536 / 4, `gzip answer of ${b} bytes`);
  } finally {
    await gateway.stop();
  }
  const records = await readRecords(gzipLog);
  assert.ok(records.length >= 40);
  for (const r of records) assert.equal(r.framework, 'express+gzip');
  for (const r of records) assert.ok(BigInt(r.t5 as string) >= BigInt(r.t4 as string), 't5 after t4');
});

test('Accept-Encoding negotiation', () => {
  assert.equal(acceptsCoding(undefined, 'gzip'), false);
  assert.equal(acceptsCoding('gzip', 'gzip'), true);
  assert.equal(acceptsCoding('deflate, GZIP;q=0.5', 'gzip'), true);
  assert.equal(acceptsCoding('gzip;q=0', 'gzip'), false);
  assert.equal(acceptsCoding('*', 'br'), true);
  assert.equal(acceptsCoding('*;q=0, gzip', 'br'), false);
  assert.equal(acceptsCoding('br;q=0, *', 'br'), false);
  assert.equal(acceptsCoding('identity', 'br'), false);
});
