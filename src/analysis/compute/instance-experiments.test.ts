import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffGaps, backoffThreshold, coldPhases, concurrencySteps, interference, type Rec } from './instance-experiments.js';

const call = (id: string, label: string, t0: number, t6: number, extra: Rec = {}): Rec => ({ id, label, t0: String(t0), t6: String(t6), status: 200, warmup: false, ...extra });
const worker = (id: string, cold: boolean, instance = 'i1'): Rec => ({ id, cold, instance, error: null });

test('backoff: cold fraction per gap, and the threshold between the last warm gap and the first of the cold ones', () => {
  const caller = [call('a', 'gap 1s', 0, 1000), call('b', 'gap 1s', 0, 1000), call('c', 'gap 8s', 0, 2000), call('d', 'gap 8s', 0, 5000), call('e', 'gap 4s', 0, 1000)];
  const byId = new Map([worker('a', false), worker('b', false), worker('c', true), worker('d', true), worker('e', false)].map((w) => [w.id as string, w]));
  const gaps = backoffGaps(caller, byId, (g) => Number.parseInt(g, 10) * 1000);
  assert.deepEqual(gaps.map((g) => [g.gap, g.cold_fraction]), [['1s', 0], ['4s', 0], ['8s', 1]]);
  assert.equal(gaps[2]!.cold_p50_us, 2);
  assert.deepEqual(backoffThreshold(gaps), { warm_below: '4s', cold_from: '8s' });
  // A cold gap followed by a warm one is noise, not the threshold.
  assert.deepEqual(backoffThreshold([{ ...gaps[0]!, cold_fraction: 1 }, gaps[1]!]), { warm_below: '4s', cold_from: null });
});

test('cold phases: medians of the start-up stamps of answered cold calls only', () => {
  const stamps = (base: number, error: string | null): Rec => ({
    cold: true, error, t3_recv: String(base), cold_spawn: String(base + 1000), cold_loaded: String(base + 51_000),
    cold_init: String(base + 52_000), t3_start: String(base + 60_000), t3_end: String(base + 61_000),
  });
  const p = coldPhases([stamps(0, null), stamps(10, null), { ...stamps(0, 'function_timeout'), t3_start: '0' }, { cold: false }]);
  assert.deepEqual(p, { calls: 2, before_spawn_us: 1, boot_and_load_us: 50, init_us: 1, hand_over_us: 8, function_us: 1 });
});

test('concurrency: one step per caller count, with the instances that served it', () => {
  const caller = [call('a', 'x', 0, 1e9, { connections: 2 }), call('b', 'x', 0, 1e9, { connections: 2 }), call('c', 'x', 0, 1e9, { connections: 1 })];
  const byId = new Map([worker('a', false, 'i1'), worker('b', true, 'i2'), worker('c', false, 'i1')].map((w) => [w.id as string, w]));
  const steps = concurrencySteps(caller, byId);
  assert.deepEqual(steps.map((s) => [s.connections, s.requests, s.instances, s.cold, s.requests_per_s]), [[1, 1, 1, 0, 1], [2, 2, 2, 1, 2]]);
});

test('interference: neighbours split at the faults, each fault with its gateway error', () => {
  const caller = [
    call('n1', 'neighbour', 0, 10),
    call('f1', 'fault loop', 100, 300, { status: 504 }),
    call('n2', 'neighbour', 150, 170, { status: 502 }),
    call('n3', 'neighbour', 400, 430),
  ];
  const r = interference(caller, new Map([['f1', { error: 'function_timeout' }]]));
  assert.deepEqual(r.phases.map((p) => [p.phase, p.requests, p.errors]), [['before', 1, 0], ['during', 1, 1], ['after', 1, 0]]);
  assert.deepEqual(r.faults, [{ kind: 'loop', status: 504, error: 'function_timeout', latency_us: 0.2 }]);
});
