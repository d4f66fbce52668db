/**
 * The real worker and gateway with --metrics-port: load through the real
 * caller, /metrics scraped, promtool's verdict, and every counter and
 * histogram checked against the requests sent and the records written.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, runCli, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { parseExposition, promtoolCheck, requireTool, sampleValue, type PromSample } from '../testing/prometheus.js';
import { assertOfficialOtlp } from '../testing/otlp.js';
import { STAGE_BUCKETS_SECONDS } from './families.js';
import { GATEWAY_STAGES, WORKER_STAGES } from './index.js';

const promtool = requireTool('promtool');
const CALLER_REQUESTS = 300;

let dir: string;
let worker: RoleProcess & { address: string };
let gateway: RoleProcess & { url: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-metrics-'));
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson'), '--metrics-port', '0']);
  gateway = await startGatewayProcess('express', worker.address, ['--log', join(dir, 'gateway.ndjson'), '--metrics-port', '0']);
});

after(async () => {
  await gateway?.stop();
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

const scrape = async (role: RoleProcess): Promise<string> => {
  const url = role.ready.metrics;
  assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'metrics on loopback by default, its URL in the ready line');
  const res = await fetch(String(url));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
};

type Rec = Record<string, unknown>;
const ns = (r: Rec, k: string) => BigInt(r[k] as string);

/** The stage of docs/measurement.md, in ns, from a gateway record; null when its stamps are missing. */
function gatewayStage(r: Rec, stage: (typeof GATEWAY_STAGES)[number]): number | null {
  const has = (...ks: string[]) => ks.every((k) => r[k] !== null);
  switch (stage) {
    case 'gateway_in':
      return has('t2') ? Number(ns(r, 't2') - ns(r, 't1')) : null;
    case 'rpc_link':
      return has('t2', 't4', 't3_recv') ? Number(ns(r, 't4') - ns(r, 't2') - (ns(r, 't3_send') - ns(r, 't3_recv'))) : null;
    case 'worker_queue':
      return has('t2', 't4', 't3_recv') ? Number(ns(r, 't3_start') - ns(r, 't3_recv')) : null;
    case 'function':
      return has('t2', 't4', 't3_recv') ? Number(ns(r, 't3_end') - ns(r, 't3_start')) : null;
    case 'worker_out':
      return has('t2', 't4', 't3_recv') ? Number(ns(r, 't3_send') - ns(r, 't3_end')) : null;
    case 'respond':
      return has('t4') ? Number(ns(r, 't5') - ns(r, 't4')) : null;
    case 'handler':
      return Number(ns(r, 't5') - ns(r, 't1'));
  }
}

/** Every bucket, the count and the sum of one histogram series equal what the values give. */
function assertHistogram(samples: PromSample[], name: string, labels: Record<string, string>, valuesNs: number[]): void {
  const what = `${name} ${JSON.stringify(labels)}`;
  assert.ok(valuesNs.length > 0, `${what}: values to compare`);
  assert.equal(sampleValue(samples, `${name}_count`, labels), valuesNs.length, `${what} count`);
  for (const le of STAGE_BUCKETS_SECONDS) {
    const expected = valuesNs.filter((v) => v <= Math.round(le * 1e9)).length;
    assert.equal(sampleValue(samples, `${name}_bucket`, { ...labels, le: String(le) }), expected, `${what} bucket le=${le}`);
  }
  assert.equal(sampleValue(samples, `${name}_bucket`, { ...labels, le: '+Inf' }), valuesNs.length, `${what} +Inf`);
  const sum = valuesNs.reduce((a, b) => a + b, 0) / 1e9;
  assert.ok(Math.abs(sampleValue(samples, `${name}_sum`, labels) - sum) < 1e-6, `${what} sum`);
}

test('counters match the requests sent, histograms match the records, promtool accepts both expositions, the trace id is on every record', async (t) => {
  if ('skip' in promtool) return t.skip(promtool.skip);
  const callerFile = join(dir, 'caller.ndjson');
  const caller = await runCli(
    ['caller', '--url', `${gateway.url}/empty`, '--requests', String(CALLER_REQUESTS), '--connections', '4', '--warmup', '0', '--traceparent', '--out', callerFile, '--json'],
    { timeoutMs: 180_000 },
  );
  assert.equal(caller.code, 0, caller.stderr);
  for (let i = 0; i < 5; i++) assert.equal((await fetch(`${gateway.url}/no-such-route-${i}`)).status, 404);
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gateway.url}/sleep?ms=x`)).status, 400);
  // A traceparent without x-request-id: its trace id is the request id.
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const traced = await fetch(`${gateway.url}/empty`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  assert.equal(traced.status, 200);
  assert.equal(traced.headers.get('x-request-id'), traceId);

  const callerRecords = await readRecords(callerFile);
  const sent200 = callerRecords.filter((r) => r.status === 200).length + 1;
  let gw: PromSample[] = [];
  // The count is taken when node's response finishes, just after the caller has its answer.
  await waitFor(
    async () => {
      gw = parseExposition(await scrape(gateway));
      return sampleValue(gw, 'faasbench_gateway_requests_total', { fn: 'empty', status: '200', code: '' }) === sent200 &&
        gw.some((s) => s.name === 'faasbench_gateway_process_resident_memory_bytes' && s.value > 0);
    },
    60_000,
    'the gateway to count every request and take a sample',
  );
  const gwText = await scrape(gateway);
  const wkText = await scrape(worker);
  for (const name of ['faasbench_gateway_process_gc_pause_seconds_total', 'faasbench_gateway_process_gc_pauses_total', 'faasbench_gateway_process_gc_max_pause_seconds']) {
    assert.ok(parseExposition(gwText).some((s) => s.name === name && s.value >= 0), `${name} is exposed`);
  }
  for (const [role, text] of [['gateway', gwText], ['worker', wkText]]) {
    const check = promtoolCheck(promtool.path, text!);
    assert.equal(check.status, 0, `promtool check metrics on the ${role}: ${check.output}`);
  }
  gw = parseExposition(gwText);
  const wk = parseExposition(wkText);
  assert.equal(sampleValue(gw, 'faasbench_gateway_requests_total', { framework: 'express', fn: 'empty', status: '200', code: '' }), sent200);
  assert.equal(sampleValue(gw, 'faasbench_gateway_requests_total', { fn: 'none', status: '404', code: 'not_found' }), 5);
  assert.equal(sampleValue(gw, 'faasbench_gateway_requests_total', { fn: 'sleep', status: '400', code: 'bad_parameter' }), 3);
  assert.equal(sampleValue(gw, 'faasbench_gateway_calls_in_flight', {}), 0);
  assert.equal(sampleValue(gw, 'faasbench_gateway_rpc_connections', {}), 1);
  assert.equal(sampleValue(gw, 'faasbench_gateway_rpc_reconnects_total', {}), 0);
  assert.ok(sampleValue(gw, 'faasbench_gateway_process_cpu_seconds_total', { mode: 'user' }) > 0);
  assert.ok(gw.some((s) => s.name === 'faasbench_gateway_process_event_loop_utilization'));
  assert.equal(sampleValue(wk, 'faasbench_worker_rpc_connections', {}), 1);
  assert.equal(sampleValue(wk, 'faasbench_worker_load', { kind: 'inflight' }), 0);

  // Stopped with SIGTERM, both flush every record.
  await gateway.stop();
  await worker.stop();
  const gatewayRecords = (await readRecords(join(dir, 'gateway.ndjson'))).filter((r) => r.fn === 'empty');
  const workerRecords = (await readRecords(join(dir, 'worker.ndjson'))).filter((r) => r.fn === 'empty');
  assert.equal(gatewayRecords.length, sent200);
  assert.equal(workerRecords.length, sent200);
  for (const stage of GATEWAY_STAGES) {
    const values = gatewayRecords.map((r) => gatewayStage(r, stage)).filter((v): v is number => v !== null);
    assertHistogram(gw, 'faasbench_gateway_stage_seconds', { fn: 'empty', stage }, values);
  }
  // The worker runs instances (--isolation thread): its records say which calls were cold.
  const cold = workerRecords.filter((r) => r.cold === true);
  assert.ok(cold.length >= 1, 'the first call started an instance');
  assert.equal(sampleValue(wk, 'faasbench_worker_calls_total', { fn: 'empty', outcome: 'ok', start: 'cold' }), cold.length);
  assert.equal(sampleValue(wk, 'faasbench_worker_calls_total', { fn: 'empty', outcome: 'ok', start: 'warm' }), workerRecords.length - cold.length);
  assertHistogram(wk, 'faasbench_worker_cold_start_seconds', { fn: 'empty', phase: 'load' }, cold.map((r) => Number(ns(r, 'cold_loaded') - ns(r, 'cold_spawn'))));
  assertHistogram(wk, 'faasbench_worker_cold_start_seconds', { fn: 'empty', phase: 'init' }, cold.map((r) => Number(ns(r, 'cold_init') - ns(r, 'cold_loaded'))));
  const workerStage: Record<(typeof WORKER_STAGES)[number], [string, string]> = {
    worker_queue: ['t3_recv', 't3_start'],
    function: ['t3_start', 't3_end'],
    worker_out: ['t3_end', 't3_send'],
  };
  for (const stage of WORKER_STAGES) {
    const [from, to] = workerStage[stage];
    assertHistogram(wk, 'faasbench_worker_stage_seconds', { fn: 'empty', stage }, workerRecords.map((r) => Number(ns(r, to) - ns(r, from))));
  }

  // Every caller request's trace id is on its gateway and worker records.
  const byId = (records: Rec[]) => new Map(records.map((r) => [r.id as string, r]));
  const gById = byId(gatewayRecords);
  const wById = byId(workerRecords);
  assert.equal(callerRecords.length, CALLER_REQUESTS);
  assert.equal(new Set(callerRecords.map((r) => r.trace_id)).size, CALLER_REQUESTS, 'a new trace id for each request');
  for (const c of callerRecords) {
    assert.match(String(c.trace_id), /^[0-9a-f]{32}$/);
    assert.equal(gById.get(c.id as string)?.trace_id, c.trace_id, `gateway record of ${String(c.id)}`);
    assert.equal(wById.get(c.id as string)?.trace_id, c.trace_id, `worker record of ${String(c.id)}`);
  }
  assert.equal(gById.get(traceId)?.trace_id, traceId);
  assert.equal(wById.get(traceId)?.trace_id, traceId);

  // The run's OTLP export: valid, and each trace carries the trace id the caller sent.
  const otlpFile = join(dir, 'traces.json');
  const analyzed = await runCli(['analyze', dir, '--otlp', otlpFile, '--no-csv', '--out', join(dir, 'report')], { timeoutMs: 180_000 });
  assert.equal(analyzed.code, 0, analyzed.stderr);
  const otlp = assertOfficialOtlp(await readFile(otlpFile, 'utf8'));
  const callerSpans = (otlp.resourceSpans as { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { traceId: string }[] }[] }[])
    .filter((rs) => rs.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'faasbench-caller'))
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  assert.deepEqual(new Set(callerSpans.map((sp) => sp.traceId)), new Set(callerRecords.map((c) => c.trace_id)));
});

test('a bad --metrics-port is one line and exit 2', async () => {
  for (const role of [['worker', '--port', '0'], ['gateway', '--framework', 'node', '--port', '0']]) {
    const r = await runCli([...role, '--metrics-port', '70000'], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^faasbench: --metrics-port must be an integer from 0 to 65535/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
