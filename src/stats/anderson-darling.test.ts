import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poissonTimes } from '../testing/series.js';
import { andersonDarlingExponential, EXPONENTIAL_CRITICAL } from './anderson-darling.js';

test('A² of a fixed sample equals the reference implementation', () => {
  // scipy.stats.anderson(x, dist='expon').statistic, scipy 1.17.1: 0.13922519684531132.
  const x = [0.3, 1.2, 0.05, 2.7, 0.9, 0.44, 1.8, 0.12, 3.9, 0.66, 0.21, 1.05];
  const r = andersonDarlingExponential(x);
  assert.ok(Math.abs(r.a2 - 0.13922519684531132) < 1e-12, `A² ${r.a2}`);
  assert.equal(r.adjusted, r.a2 * (1 + 0.6 / 12));
  assert.equal(r.rejectedAt, null);
});

test("exponential samples are rejected at about the published levels (Stephens' table)", () => {
  const gaps = (seed: number, n: number) => {
    const t = poissonTimes(n + 1, 1, seed);
    return Float64Array.from({ length: n }, (_, i) => t[i + 1]! - t[i]!);
  };
  for (const n of [20, 500]) {
    let at5 = 0;
    let at1 = 0;
    const draws = 1000;
    for (let seed = 1; seed <= draws; seed++) {
      const r = andersonDarlingExponential(gaps(seed, n));
      if (r.adjusted > EXPONENTIAL_CRITICAL[2]!.value) at5++;
      if (r.adjusted > EXPONENTIAL_CRITICAL[4]!.value) at1++;
    }
    // 1000 draws: SE 0.7% at 5%, 0.3% at 1%.
    assert.ok(at5 / draws > 0.03 && at5 / draws < 0.07, `n ${n}: ${at5} of ${draws} at 5%`);
    assert.ok(at1 / draws < 0.02, `n ${n}: ${at1} of ${draws} at 1%`);
  }
});

test('evenly spaced gaps, and a zero gap, are rejected', () => {
  assert.equal(andersonDarlingExponential(new Float64Array(200).fill(5)).rejectedAt, 0.01);
  const r = andersonDarlingExponential([1, 2, 0, 3, 1.5]);
  assert.equal(r.adjusted, Number.POSITIVE_INFINITY);
  assert.equal(r.rejectedAt, 0.01);
});
