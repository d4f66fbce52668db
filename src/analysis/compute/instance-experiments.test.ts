/**
 * The instance experiments' figures from records ingested into the request
 * table, as `faasbench analyze` reads them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ingest } from '../read/ingest.js';
import { RequestTable } from '../read/table.js';
import {
  backoffGaps,
  backoffThreshold,
  callsOf,
  coldPhases,
  concurrencySteps,
  instanceExperimentOf,
  interference,
  lifecycleOf,
} from './instance-experiments.js';

type Rec = Record<string, unknown>;

function tableOf(records: Rec[]): { table: RequestTable; ingest: Ingest } {
  const table = new RequestTable();
  const ingest = new Ingest(table);
  records.forEach((r, i) => ingest.line(JSON.stringify(r), 'records.ndjson', i + 1));
  assert.deepEqual(ingest.counts.rejected, {}, 'every line read');
  return { table: table.sealed(), ingest };
}

const call = (id: string, label: string, t0: number, t6: number, extra: Rec = {}): Rec => ({
  role: 'caller', host: 'c', id, label, t0: String(t0), t6: String(t6), status: 200, warmup: false, ...extra,
});
const worker = (id: string, cold: boolean | null, instance: string | null = 'i1', extra: Rec = {}): Rec => ({
  role: 'worker', host: 'w', id, fn: 'empty', error: null, t3_recv: '1000', t3_start: '2000', t3_end: '3000', t3_send: '4000', instance, cold, ...extra,
});

test('backoff: cold fraction per gap, and the threshold between the last warm gap and the first of the cold ones', () => {
  const { table } = tableOf([
    call('a', 'gap 1s', 0, 1000), call('b', 'gap 1s', 0, 1000), call('c', 'gap 8s', 0, 2000), call('d', 'gap 8s', 0, 5000), call('e', 'gap 4s', 0, 1000),
    worker('a', false), worker('b', false), worker('c', true), worker('d', true), worker('e', false),
  ]);
  const gaps = backoffGaps(callsOf(table));
  assert.deepEqual(gaps.map((g) => [g.gap, g.gap_ms, g.cold_fraction]), [['1s', 1000, 0], ['4s', 4000, 0], ['8s', 8000, 1]]);
  assert.equal(gaps[2]!.cold_p50_us, 2);
  assert.ok(Number.isNaN(gaps[2]!.warm_p50_us), 'no warm call after 8 s');
  assert.deepEqual(backoffThreshold(gaps), { warm_below: '4s', cold_from: '8s' });
  // A cold gap followed by a warm one is noise, not the threshold.
  assert.deepEqual(backoffThreshold([{ ...gaps[0]!, cold_fraction: 1 }, gaps[1]!]), { warm_below: '4s', cold_from: null });
  assert.equal(instanceExperimentOf(null, table), 'backoff', 'known by its labels without run.json');
});

test('cold phases: medians of the start-up stamps of answered cold calls only, each call on its own clock', () => {
  const stamps = (id: string, base: number, error: string | null): Rec =>
    worker(id, true, `i-${id}`, {
      error,
      t3_recv: String(base), cold_spawn: String(base + 1000), cold_loaded: String(base + 51_000),
      cold_init: String(base + 52_000), t3_start: String(base + 60_000), t3_end: String(base + 61_000), t3_send: String(base + 62_000),
    });
  const { table } = tableOf([stamps('a', 0, null), stamps('b', 10, null), { ...stamps('c', 0, 'function_timeout'), t3_start: '0' }, worker('d', false)]);
  assert.deepEqual(coldPhases(table), { calls: 2, before_spawn_us: 1, boot_and_load_us: 50, init_us: 1, hand_over_us: 8, function_us: 1 });
  assert.equal(coldPhases(tableOf([worker('e', false)]).table), null);
});

test('concurrency: one step per caller count, with the instances that served it', () => {
  const { table } = tableOf([
    call('a', 'x', 0, 1e9, { connections: 2 }), call('b', 'x', 0, 1e9, { connections: 2 }), call('c', 'x', 0, 1e9, { connections: 1 }),
    call('w', 'x', 0, 1e9, { connections: 1, warmup: true }), call('f', 'x', 0, 1e9, { connections: 1, status: 502 }),
    worker('a', false, 'i1'), worker('b', true, 'i2'), worker('c', false, 'i1'),
  ]);
  const steps = concurrencySteps(callsOf(table));
  assert.deepEqual(steps.map((s) => [s.connections, s.requests, s.instances, s.cold, s.requests_per_s]), [[1, 1, 1, 0, 1], [2, 2, 2, 1, 2]]);
  // Functions run inline (no instance): none counted.
  assert.deepEqual(concurrencySteps(callsOf(tableOf([call('a', 'x', 0, 1e9, { connections: 1 }), worker('a', null, null)]).table))[0]!.instances, 0);
});

test('interference: neighbours split at the faults, each fault with its gateway error', () => {
  const { table } = tableOf([
    call('n1', 'neighbour', 0, 10),
    call('f1', 'fault loop', 100, 300, { status: 504 }),
    call('n2', 'neighbour', 150, 170, { status: 502 }),
    call('n3', 'neighbour', 400, 430),
    { role: 'gateway', host: 'g', id: 'f1', framework: 'node', fn: 'fault', status: 504, error: 'function_timeout', t1: '1', t2: '2', t4: '3', t5: '4' },
  ]);
  const r = interference(callsOf(table));
  assert.deepEqual(r.phases.map((p) => [p.phase, p.requests, p.errors]), [['before', 1, 0], ['during', 1, 1], ['after', 1, 0]]);
  assert.deepEqual(r.faults, [{ kind: 'loop', status: 504, error: 'function_timeout', latency_us: 0.2 }]);
  assert.equal(instanceExperimentOf(null, table), 'interference');
});

test("the experiment comes from run.json first; a frameworks run has none; instances over time from the worker's samples", () => {
  const sample = (t: number, instances: number, busy: number): Rec => ({
    role: 'worker', type: 'sample', host: 'w', pid: 1, t: String(t), interval_ms: 1000, elu: 0.1, instances, instances_busy: busy,
  });
  const { table, ingest } = tableOf([call('a', 'gap 1s', 0, 1000), worker('a', false), sample(5e9, 1, 0), sample(6e9, 2, 1)]);
  assert.equal(instanceExperimentOf({ config: { experiment: 'concurrency' } }, table), 'concurrency');
  assert.equal(instanceExperimentOf({ config: { experiment: 'frameworks' } }, table), null);
  const l = lifecycleOf('backoff', table, callsOf(table), ingest.samples);
  assert.deepEqual(Object.keys(l.figures), ['experiment', 'gaps', 'threshold', 'cold_phases'], "lifecycle.json's shape");
  assert.deepEqual(l.instancesOverTime, [{ s: 0, instances: 1, busy: 0 }, { s: 1, instances: 2, busy: 1 }]);
  assert.deepEqual(l.backoffPoints, [{ gap_s: 1, latency_us: 1, start: 'warm' }]);
});
