import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyRecorder } from './latency.js';

test('percentiles at µs resolution: sub-ms and 20 ms values are not rounded to whole ms', () => {
  const r = new LatencyRecorder();
  // 1000 values 300.000 µs .. 300.999 µs, and 1000 values 20.4000 ms .. 20.4999 ms.
  for (let i = 0; i < 1000; i++) r.recordNs(300_000 + i);
  for (let i = 0; i < 1000; i++) r.recordNs(20_400_000 + i * 100);
  const s = r.summary();
  assert.equal(s.count, 2000);
  assert.equal(s.min, 300, 'min exact');
  assert.equal(s.max, 20_499.9, 'max exact');
  // p50 is the 1000th value: 300.999 µs; a bucket here is 32 ns wide.
  assert.ok(Math.abs(s.p50 - 300.999) < 0.05, `p50 ${s.p50} µs`);
  // p90 is the 1800th value: 20.4799 ms; buckets at 20 ms are 1.024 µs wide.
  assert.ok(Math.abs(s.p90 - 20_479.9) <= 1.1, `p90 ${s.p90} µs`);
  assert.ok(s.p99_9 <= s.max);
  r.destroy();
});

test('an empty recorder summarises to zeros', () => {
  const r = new LatencyRecorder();
  assert.deepEqual(r.summary(), { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0, mean: 0 });
  r.destroy();
});
