/**
 * Server-Timing on all five adapters, equal to the record of the same request;
 * the traceparent rules of the gateway.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { FRAMEWORKS } from './adapters/adapter.js';
import { traceIdOf } from './request-log.js';
import { durMs, serverTiming } from './server-timing.js';

/** A Server-Timing header as a browser reads it: metric name → dur (ms). */
function parseServerTiming(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const metric of header.split(',')) {
    const [name, ...params] = metric.trim().split(';');
    assert.match(name!, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, `metric name ${name}`);
    const dur = params.map((p) => /^dur=(-?\d+(?:\.\d+)?)$/.exec(p.trim())).find((m) => m !== null);
    assert.ok(dur, `dur of ${metric}`);
    out.set(name!, Number(dur[1]));
  }
  return out;
}

test('durMs: ms with µs precision, to the nearest µs', () => {
  assert.equal(durMs(0n), '0.000');
  assert.equal(durMs(1_499n), '0.001');
  assert.equal(durMs(1_500n), '0.002');
  assert.equal(durMs(12_345_678n), '12.346');
  assert.equal(durMs(-1_234_400n), '-1.234', 'a negative stage (clocks of different hosts) keeps its sign');
  assert.equal(durMs(-400n), '0.000');
  assert.equal(durMs(60_000_000_000n), '60000.000');
  // Agrees with the arithmetic definition across magnitudes.
  for (let ns = 1n; ns < 10n ** 12n; ns = ns * 7n + 3n) assert.equal(durMs(ns), (Math.round(Number(ns) / 1e3) / 1e3).toFixed(3), String(ns));
  const header = serverTiming(1_000n, 11_000n, 61_000n, { t3_recv: 5_000_000n, t3_start: 5_002_000n, t3_end: 5_030_000n, t3_send: 5_040_000n });
  assert.deepEqual(
    [...parseServerTiming(header)],
    [['gateway_in', 0.01], ['rpc_link', 0.01], ['worker_queue', 0.002], ['function', 0.028], ['worker_out', 0.01]],
  );
});

test('traceIdOf: the trace id of a valid traceparent, else null', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  assert.equal(traceIdOf(`00-${id}-00f067aa0ba902b7-01`), id);
  assert.equal(traceIdOf(`01-${id}-00f067aa0ba902b7-01-later-fields`), id, 'a later version may add fields');
  for (const bad of [
    undefined,
    ['a', 'b'],
    `00-${id}-00f067aa0ba902b7-01-x`,
    `ff-${id}-00f067aa0ba902b7-01`,
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-${id}-${'0'.repeat(16)}-01`,
    `00-${id.toUpperCase()}-00f067aa0ba902b7-01`,
    `00-${id}-00f067aa0ba902b7`,
  ]) {
    assert.equal(traceIdOf(bad), null, String(bad));
  }
});

let dir: string;
let worker: RoleProcess & { address: string };
const gateways = new Map<string, RoleProcess & { url: string }>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-server-timing-'));
  worker = await startWorkerProcess();
  await Promise.all(
    FRAMEWORKS.map(async (fw) => gateways.set(fw, await startGatewayProcess(fw, worker.address, ['--log', join(dir, `gateway-${fw}.ndjson`)]))),
  );
});

after(async () => {
  await Promise.all([...gateways.values()].map((g) => g.stop()));
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('Server-Timing on all five adapters equals the record of that request', async () => {
  const paths = ['/empty', '/sleep?ms=1', '/math?n=1000', '/empty', '/math?n=1'];
  for (const [fw, gw] of gateways) {
    assert.equal(gw.ready.metrics, null, 'metrics are off by default');
    const headers = new Map<string, string>();
    for (const [i, path] of paths.entries()) {
      const id = `st-${fw}-${i}`;
      const res = await fetch(`${gw.url}${path}`, { headers: { 'x-request-id': id } });
      assert.equal(res.status, 200, `${fw} ${path}`);
      await res.arrayBuffer();
      headers.set(id, res.headers.get('server-timing') ?? '');
    }
    const missing = await fetch(`${gw.url}/no-such-route`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('server-timing'), null, `${fw}: no stages without a worker's reply`);
    await gw.stop();
    const records = new Map((await readRecords(join(dir, `gateway-${fw}.ndjson`))).map((r) => [r.id as string, r]));
    for (const [id, header] of headers) {
      const r = records.get(id);
      assert.ok(r, `${fw}: record of ${id}`);
      const s = (k: string) => BigInt(r[k] as string);
      const expected = {
        gateway_in: s('t2') - s('t1'),
        rpc_link: s('t4') - s('t2') - (s('t3_send') - s('t3_recv')),
        worker_queue: s('t3_start') - s('t3_recv'),
        function: s('t3_end') - s('t3_start'),
        worker_out: s('t3_send') - s('t3_end'),
      };
      const timing = parseServerTiming(header);
      assert.deepEqual([...timing.keys()], Object.keys(expected), `${fw} ${id}: ${header}`);
      for (const [stage, ns] of Object.entries(expected)) {
        assert.equal(timing.get(stage), Math.round(Number(ns) / 1e3) / 1e3, `${fw} ${id} ${stage}`);
      }
    }
  }
});

test('--no-server-timing sends none', async () => {
  const gw = await startGatewayProcess('koa', worker.address, ['--no-server-timing']);
  try {
    const res = await fetch(`${gw.url}/empty`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('server-timing'), null);
  } finally {
    await gw.stop();
  }
});
