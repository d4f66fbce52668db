/**
 * The caller's load models against real binaries: Poisson arrivals through a
 * real gateway pass their own check; a target that cannot keep up warns, then
 * fails; a probe on connections of its own does not see the load's queue;
 * --until-ci ends early when the latency is quiet and runs to the limit when
 * it is noisy. Capacity is set by construction (a /sleep with few
 * connections), never by how fast the machine is.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../stats/random.js';
import { startHttpServer } from '../testing/http-servers.js';
import { readRecords, runCli, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

let worker: RoleProcess & { address: string };
let gateway: RoleProcess & { url: string };
const LONG = { timeout: 120_000 };

before(async () => {
  // Inline functions: no instance to start, so no cold start lands in a window.
  worker = await startWorkerProcess(['--isolation', 'inline']);
  gateway = await startGatewayProcess('node', worker.address);
  // Warm both paths first.
  for (const path of ['/empty', '/sleep?ms=1']) await runCli(['caller', '--url', `${gateway.url}${path}`, '--connections', '4', '--requests', '200', '--warmup', '0'], { timeoutMs: 60_000 });
});
after(async () => {
  await gateway?.stop();
  await worker?.stop();
});

/** `faasbench caller … --json`, its exit code, stderr and summary. */
async function caller(args: string[]) {
  const r = await runCli(['caller', '--json', ...args], { timeoutMs: 90_000 });
  assert.ok(r.stdout.startsWith('{'), `no JSON summary (exit ${r.code}): ${r.stderr}`);
  return { code: r.code, stderr: r.stderr, json: JSON.parse(r.stdout) as Record<string, any> };
}

test('Poisson arrivals through a real gateway pass their own arrival check', LONG, async () => {
  const { code, json } = await caller(['--url', `${gateway.url}/empty`, '--arrival', 'poisson', '--rate', '50', '--seed', '7', '--connections', '10', '--duration', '5s', '--warmup', '1s']);
  const a = json.arrivals;
  assert.equal(code, 0, JSON.stringify(a));
  assert.equal(a.arrival, 'poisson');
  assert.equal(a.seed, 7);
  assert.equal(a.rate, 'ok');
  assert.ok(a.poisson.tested >= 20, `${a.poisson.tested} gaps tested`);
  assert.equal(a.poisson.passed, true, JSON.stringify(a.poisson));
  assert.equal(a.verdict, 'ok');
});

test('a target that cannot keep up: the caller warns at a 10% shortfall; a probe on its own connections does not see the queue', LONG, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'faasbench-probe-')), 'caller.ndjson');
  // 4 connections, 200 ms a request: 20 requests a second at most, 23.5 due (about 15% short).
  const { code, stderr, json } = await caller([
    '--url', `${gateway.url}/sleep?ms=200`, '--rate', '23.5', '--connections', '4', '--duration', '8s', '--warmup', '1s',
    '--probe-rate', '10', '--probe-url', `${gateway.url}/empty`, '--out', out,
  ]);
  const a = json.arrivals;
  assert.equal(code, 0, stderr);
  assert.equal(a.rate, 'warn', JSON.stringify(a));
  assert.ok(a.shortfall >= 0.1 && a.shortfall < 0.2, `shortfall ${a.shortfall}`);
  assert.match(stderr, /WARNING .*short/);
  // The load queues in the caller for a free connection; its latency is taken from the due time.
  const load = json.latency_us;
  const probe = json.probe;
  assert.ok(load.p50 > 150_000, `load p50 ${load.p50} µs`);
  assert.ok(probe.responses >= 50, `${probe.responses} probe answers`);
  assert.ok(probe.latency_us.p99 < load.p50 / 5, `probe p99 ${probe.latency_us.p99} µs against the load's p50 ${load.p50} µs`);
  assert.equal(probe.agreement.p50, 'differ');
  const records = await readRecords(out);
  const probes = records.filter((r) => r.probe === true);
  assert.ok(probes.length >= 50 && probes.every((r) => r.path === '/empty' && r.connections === 2));
  assert.ok(records.filter((r) => r.probe === undefined).every((r) => String(r.path).startsWith('/sleep')));
});

test('a target that cannot keep up at all: the caller stops at a 20% shortfall and fails', LONG, async () => {
  const { code, stderr, json } = await caller(['--url', `${gateway.url}/sleep?ms=200`, '--rate', '60', '--connections', '4', '--duration', '20s', '--warmup', '0']);
  const a = json.arrivals;
  assert.equal(code, 98, stderr);
  assert.equal(a.rate, 'fail');
  assert.equal(a.stopped_early, true);
  assert.ok(a.shortfall >= 0.2);
  assert.ok(json.window.seconds < 10, `window ${json.window.seconds} s, planned 20 s`);
  assert.match(stderr, /arrival check failed/);
});

test('--until-ci ends the window early on quiet latency', LONG, async () => {
  // Quiet by construction: every answer after 20 ms (/sleep through the real gateway), so the median is
  // known within ±10% within seconds, however correlated the machine's stalls make successive latencies.
  // (On an idle machine /empty gets there as quickly; on a busy one its latencies are correlated over
  // hundreds of requests, and an honest interval on its few independent values stays wide.)
  const { code, json } = await caller(['--url', `${gateway.url}/sleep?ms=20`, '--connections', '4', '--until-ci', '10%', '--ci-percentile', 'p50', '--max-duration', '60s', '--warmup', '500ms']);
  assert.equal(code, 0);
  assert.equal(json.precision.reached, true, `${JSON.stringify(json.precision)} window ${json.window.seconds} s, ${json.requests} requests, ${JSON.stringify(json.independence)}`);
  assert.ok(json.precision.at_seconds < 60 && json.window.seconds < 60, `window ${json.window.seconds} s`);
  assert.ok(json.requests >= 100);
  const ci = json.latency_ci_us.p50;
  assert.ok(ci.low <= json.latency_us.p50 && json.latency_us.p50 <= ci.high);
});

test('--until-ci runs to --max-duration on noisy latency, and says the precision was not reached', LONG, async () => {
  // Each answer after a random 0–400 ms: 2 connections give about 10 answers a second, while the
  // median within ±10% needs about 380 independent values (1.96² / 0.1²): out of reach in 3 s.
  const random = seededRandom(31);
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('ok'), random() * 400));
  try {
    const r = await runCli(['caller', '--json', '--url', `${server.url}/noisy`, '--connections', '2', '--until-ci', '10%', '--ci-percentile', 'p50', '--max-duration', '3s', '--warmup', '200ms'], { timeoutMs: 60_000 });
    const json = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(r.code, 0);
    assert.equal(json.precision.reached, false);
    assert.ok(json.precision.achieved === null || json.precision.achieved > 0.1);
    assert.ok(Math.abs(json.window.seconds - 3) < 0.01, `window ${json.window.seconds} s`);
    assert.match(r.stderr, /precision not reached: p50 within ±10%/);
  } finally {
    await server.close();
  }
});

test('the shipped Azure trace replays at 120× through the caller', LONG, async () => {
  const server = await startHttpServer();
  try {
    const trace = new URL('../../../examples/azure-trace.csv', import.meta.url).pathname;
    const r = await runCli(['caller', '--json', '--url', `${server.url}/trace`, '--arrival', `azure:${trace}`, '--trace-speed', '120', '--seed', '3', '--duration', '2s', '--warmup', '0', '--connections', '20'], { timeoutMs: 60_000 });
    const json = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(json.arrivals.arrival, 'azure trace');
    assert.equal(json.arrivals.seed, 3);
    assert.ok(json.arrivals.planned > 50, `${json.arrivals.planned} due in the first 4 trace minutes`);
    assert.equal(json.requests + json.unsent, json.arrivals.planned);
  } finally {
    await server.close();
  }
});

test('bad load-model flags are refused in one line with exit 2', async () => {
  for (const [args, message] of [
    [['--arrival', 'poisson'], /poisson arrivals need a rate/],
    [['--arrival', 'bursty', '--rate', '10'], /--arrival must be uniform, poisson, or a trace/],
    [['--arrival', 'azure:/nonexistent.csv'], /cannot read the trace \/nonexistent.csv: ENOENT/],
    [['--until-ci', 'lots'], /--until-ci takes a precision/],
    [['--until-ci', '5%', '--duration', '3s'], /mutually exclusive|Arguments until-ci and duration/],
    [['--probe-url', 'http://127.0.0.1:1/x'], /--probe-url needs --probe-rate/],
  ] as const) {
    const r = await runCli(['caller', '--url', 'http://127.0.0.1:1/x', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
