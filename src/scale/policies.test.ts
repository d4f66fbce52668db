/**
 * The policies' arithmetic against the systems they follow: Knative's
 * decider on readings the test makes up (no clock), OpenFaaS's replica
 * steps on its own test cases, and the configurations the alert policy
 * hands to Prometheus and Alertmanager, checked by their own tools.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { alertmanagerConfig, findBinary, prometheusConfig, rulesConfig } from './alerting.js';
import { KNATIVE_DEFAULTS, KnativeDecider } from './knative.js';
import { policyParams } from './params.js';
import { ALERT_DEFAULTS, openfaasReplicas } from './policies.js';
import { metricSum } from './scaler.js';
import { startWebhook } from './webhook.js';

const params = { ...KNATIVE_DEFAULTS, target: 10, utilization: 1, stableWindowMs: 60_000, panicWindowPercent: 10, min: 1, max: 100 };

/** Feeds a constant concurrency from `fromS` to `toS` seconds, a reading each second, and decides at each. */
function feed(k: KnativeDecider, state: { busy: number }, fromS: number, toS: number, concurrency: number, ready: () => number) {
  const out: number[] = [];
  for (let s = fromS; s <= toS; s++) {
    if (s > fromS) state.busy += concurrency;
    k.observe(s * 1000, state.busy);
    const d = k.decide(s * 1000, ready());
    if (d) out.push(d.desired);
  }
  return out;
}

test('knative: the stable window sets the count, ceil(mean / target), within min and max', () => {
  const k = new KnativeDecider(params);
  assert.equal(k.decide(0, 1), null, 'no decision before two readings');
  const state = { busy: 0 };
  const counts = feed(k, state, 0, 120, 25, () => 3);
  assert.equal(counts.at(-1), 3, 'a mean of 25 over target 10: 3 workers');
  const d = k.decide(120_000, 3)!;
  assert.equal(d.stable, 25);
  assert.equal(d.panicking, false);
  const bounded = new KnativeDecider({ ...params, max: 2 });
  assert.equal(feed(bounded, { busy: 0 }, 0, 10, 25, () => 2).at(-1), 2);
});

test('knative: a burst panics at twice the ready count, scales on the 6 s window and never down while panicking', () => {
  const k = new KnativeDecider(params);
  const state = { busy: 0 };
  let ready = 1;
  feed(k, state, 0, 60, 5, () => ready); // steady: 1 worker
  assert.equal(k.decide(60_000, 1)!.desired, 1);
  // 80 in flight: the panic window wants 8 > 2 × 1 ready: panic, 8 at once (the stable window alone would want far fewer).
  const burst = feed(k, state, 60, 66, 80, () => ready);
  assert.equal(burst.at(-1), 8);
  const d = k.decide(66_000, 1)!;
  assert.ok(d.panicking);
  assert.ok(d.stable / 10 < 8, 'the stable window lags');
  ready = 8;
  // The burst ends: no decrease while panicking, which lasts a stable window past the last over-threshold tick.
  const after = feed(k, state, 66, 120, 5, () => ready);
  assert.ok(after.every((n) => n === 8), after.join(','));
  const later = feed(k, state, 120, 200, 5, () => ready);
  assert.equal(k.decide(200_000, ready)!.panicking, false);
  // Down by at most half the ready count per decision (max-scale-down-rate 2).
  assert.equal(later.find((n) => n < 8), 4);
});

test('knative: a window is the mean in flight over its span, whatever the spacing of the readings', () => {
  const k = new KnativeDecider({ ...params, stableWindowMs: 10_000 });
  k.observe(0, 0);
  k.observe(500, 2); // 4 in flight
  k.observe(3000, 12); // 4
  assert.equal(k.means()!.stable, 4);
  assert.equal(k.means()!.panic, 4, 'the panic window (1 s) falls between readings: the last interval');
});

test("openfaas: CalculateReplicas' own cases (faas gateway/handlers/alerthandler_test.go)", () => {
  const p = { min: 1, max: 20, factor: 20 };
  assert.equal(openfaasReplicas('firing', 1, { ...p, factor: 0 }), 1, 'factor 0: no scaling');
  assert.equal(openfaasReplicas('firing', 1, { ...p, min: 0, factor: 0 }), 0);
  assert.equal(openfaasReplicas('firing', 1, { min: 1, max: 1, factor: 20 }), 1, 'same upper and lower limit');
  assert.equal(openfaasReplicas('firing', 1, { ...p, factor: 100 }), 20);
  assert.equal(openfaasReplicas('firing', 1, p), 4, 'initial scale: the step');
  assert.equal(openfaasReplicas('firing', 4, p), 8);
  assert.equal(openfaasReplicas('firing', 20, p), 20);
  assert.equal(openfaasReplicas('firing', 19, p), 20);
  assert.equal(openfaasReplicas('resolved', 8, p), 1, 'backing off to min');
});

test('parameters: defaults are the systems\', a config overrides them, min and max bound both scaling policies', () => {
  const d = policyParams();
  assert.equal(d.concurrency.stableWindowMs, 60_000);
  assert.equal(d.concurrency.target * d.concurrency.utilization, 70);
  assert.deepEqual([d.alert.min, d.alert.max, d.alert.factor, d.alert.repeatIntervalMs], [1, 20, 20, 30_000]);
  const p = policyParams({ min: 2, max: 5, concurrency: { stableWindow: '10s', tick: '500ms' }, alert: { for: '1s' } });
  assert.deepEqual([p.concurrency.min, p.concurrency.max, p.concurrency.stableWindowMs, p.concurrency.tickMs], [2, 5, 10_000, 500]);
  assert.deepEqual([p.alert.min, p.alert.max, p.alert.forMs], [2, 5, 1000]);
  assert.equal(p.fixed.workers, 2, 'fixed defaults to min');
});

test('metricSum adds a metric over its series, and nothing else', () => {
  const text = [
    '# HELP faasbench_gateway_calls_in_flight_seconds_total x',
    'faasbench_gateway_calls_in_flight_seconds_total{framework="node"} 1.5',
    'faasbench_gateway_calls_in_flight_seconds_total{framework="koa"} 2',
    'faasbench_gateway_calls_in_flight_seconds_total_other 9',
    'faasbench_gateway_calls_in_flight 7',
  ].join('\n');
  assert.equal(metricSum(text, 'faasbench_gateway_calls_in_flight_seconds_total'), 3.5);
  assert.equal(metricSum(text, 'faasbench_gateway_calls_in_flight'), 7);
  assert.equal(metricSum(text, 'absent'), null);
});

test('the webhook takes Alertmanager notifications and refuses anything else', async () => {
  const got: string[] = [];
  const hook = await startWebhook('127.0.0.1', 0, (alerts) => got.push(...alerts.map((a) => a.status)));
  try {
    const post = (body: string) => fetch(hook.url, { method: 'POST', body });
    assert.equal((await post(JSON.stringify({ status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'x' } }] }))).status, 200);
    assert.equal((await post('{')).status, 400);
    assert.equal((await post(JSON.stringify({ alerts: [{}] }))).status, 400);
    assert.equal((await fetch(hook.url)).status, 405);
    assert.deepEqual(got, ['firing']);
    assert.equal(hook.received, 1);
  } finally {
    await hook.close();
  }
});

test("the alert policy's Prometheus, rule and Alertmanager configurations pass promtool and amtool", async (t) => {
  const promtool = findBinary('promtool');
  const amtool = findBinary('amtool');
  if (!promtool || !amtool) {
    if (process.env.CI) throw new Error('promtool or amtool missing (Debian packages prometheus and prometheus-alertmanager; .ci/run installs them)');
    return t.skip('promtool or amtool not installed (apt-get install prometheus prometheus-alertmanager)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'fb-alerting-'));
  try {
    const p = { ...ALERT_DEFAULTS, forMs: 500, scrapeMs: 250 };
    await writeFile(join(dir, 'prometheus.yml'), prometheusConfig(['127.0.0.1:9464'], '127.0.0.1:9093', p));
    await writeFile(join(dir, 'rules.yml'), rulesConfig(p));
    await writeFile(join(dir, 'alertmanager.yml'), alertmanagerConfig('http://127.0.0.1:9095/alert', p));
    for (const [tool, args] of [
      [promtool, ['check', 'config', join(dir, 'prometheus.yml')]],
      [promtool, ['check', 'rules', join(dir, 'rules.yml')]],
      [amtool, ['check-config', join(dir, 'alertmanager.yml')]],
    ] as const) {
      const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `${tool} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the scaler applies each decision, one move at a time, the latest wanted last', async () => {
  const moves: number[] = [];
  let n = 1;
  let release: (() => void) | null = null;
  const actuator = {
    get target() {
      return n;
    },
    get ready() {
      return n;
    },
    async scaleTo(to: number) {
      moves.push(to);
      await new Promise<void>((r) => (release = r));
      n = to;
    },
  };
  const { Scaler } = await import('./scaler.js');
  const p = policyParams({ min: 1, max: 4, alert: { factor: 50 } });
  const scaler = new Scaler({ policy: 'alert', ...p, actuator, metricsUrls: [], logger: { info() {}, warn() {}, error() {} } as never });
  // A decision that changes nothing must not keep later ones from being applied.
  scaler.alerts([{ status: 'resolved' }]);
  await new Promise((r) => setImmediate(r));
  scaler.alerts([{ status: 'firing' }]); // 1 → step 2
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(moves, [2]);
  scaler.alerts([{ status: 'firing' }]); // from the wanted 2 → 4, applied after the move in progress
  scaler.alerts([{ status: 'resolved' }]); // → 1: the latest wins
  release!();
  await new Promise((r) => setImmediate(r));
  release!();
  await scaler.stop();
  assert.deepEqual(moves, [2, 1]);
  assert.equal(n, 1);
});
