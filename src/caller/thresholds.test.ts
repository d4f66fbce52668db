import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeVerdict, judgeThresholds, parseErrorRate, parseLatencyLimit, parseThreshold } from './thresholds.js';
import type { Stats } from '../stats/percentiles.js';

test('threshold expressions: metric, operator and limit in µs or as a fraction', () => {
  assert.deepEqual(parseThreshold('p99<20ms'), { name: 'p99<20ms', metric: 'p99', op: '<', limit: 20_000 });
  assert.deepEqual(parseThreshold(' p99.9 <= 1.5s '), { name: 'p99.9<=1.5s', metric: 'p999', op: '<=', limit: 1_500_000 });
  assert.deepEqual(parseThreshold('error_rate<=1%'), { name: 'error_rate<=1%', metric: 'error_rate', op: '<=', limit: 0.01 });
  assert.equal(parseThreshold('mean<250us').limit, 250);
  assert.equal(parseLatencyLimit('300µs'), 300);
  assert.equal(parseErrorRate('0.05'), 0.05);
  for (const bad of ['p99>20ms', 'p98<20ms', 'p99<20', 'p99<fast', 'error_rate<2', 'error_rate<-1', '']) {
    assert.throws(() => parseThreshold(bad), /threshold|not a threshold/, bad);
  }
});

const latency = (p99: number, count = 100): Stats => ({ count, min: 1, p50: 10, p90: 20, p99, p99_9: p99, max: p99, mean: 12 });

test('verdicts: < is strict, <= is not; nothing measured fails', () => {
  const ts = ['p99<5ms', 'p99<=5ms', 'error_rate<0.01'].map(parseThreshold);
  const v = judgeThresholds(ts, { requests: 200, errorCount: 2, latencyUs: latency(5000) });
  assert.deepEqual(v.map((x) => [x.value, x.ok]), [[5000, false], [5000, true], [0.01, false]]);
  assert.equal(describeVerdict(v[0]!), 'p99<5ms: measured 5 ms, limit < 5 ms');
  assert.equal(describeVerdict(v[2]!), 'error_rate<0.01: measured 1%, limit < 1%');
  const none = judgeThresholds(ts, { requests: 0, errorCount: 0, latencyUs: latency(0, 0) });
  assert.ok(none.every((x) => x.value === null && !x.ok));
  assert.match(describeVerdict(none[0]!), /nothing measured/);
});
