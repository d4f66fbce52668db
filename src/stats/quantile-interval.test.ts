import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ar1, iidLatencies, normals } from '../testing/series.js';
import { independenceOf } from './independence.js';
import { percentileIntervalOfSorted, quantileRanks } from './quantile-interval.js';

test('the order statistics of a median interval match the published tables', () => {
  // n = 10: [X(2), X(9)], coverage 1 − 2·(11/1024) = 0.978515625 (Conover, Practical
  // Nonparametric Statistics, 3rd ed., §3.2; the binomial sums by hand).
  const ten = quantileRanks(10, 0.5, 0.95)!;
  assert.deepEqual([ten.lowRank, ten.highRank], [2, 9]);
  assert.ok(Math.abs(ten.coverage - 0.978515625) < 1e-12);
  // n = 100: [X(40), X(61)], coverage 0.9648 (same method; value of scipy.stats.binom 1.17.1).
  const hundred = quantileRanks(100, 0.5, 0.95)!;
  assert.deepEqual([hundred.lowRank, hundred.highRank], [40, 61]);
  assert.ok(Math.abs(hundred.coverage - 0.9647997997822952) < 1e-9);
  // p99 of 1000: [X(983), X(997)], coverage 0.97609 (scipy.stats.binom 1.17.1).
  const tail = quantileRanks(1000, 0.99, 0.95)!;
  assert.deepEqual([tail.lowRank, tail.highRank], [983, 997]);
  assert.ok(Math.abs(tail.coverage - 0.976094763497977) < 1e-9);
});

test('an interval that cannot be bounded is null: p99.9 needs 3,688 independent values at 95%', () => {
  // 1 − 0.999^n ≥ 0.975  ⇔  n ≥ ln 0.025 / ln 0.999 = 3687.1
  assert.equal(quantileRanks(3687, 0.999), null);
  assert.notEqual(quantileRanks(3688, 0.999), null);
  assert.equal(quantileRanks(367, 0.99), null);
  assert.notEqual(quantileRanks(368, 0.99), null);
  assert.equal(quantileRanks(5, 0.5), null);
  assert.notEqual(quantileRanks(6, 0.5), null);
  // Correlated: 10,000 values worth 3,000 cannot bound p99.9 either.
  assert.equal(quantileRanks(10_000, 0.999, 0.95, 3000), null);
});

/** Share of seeded repeated draws whose interval covers the true quantile. */
function coverage(draws: number, n: number, p: number, sample: (seed: number) => Float64Array, truth: number, correlated: boolean): number {
  let covered = 0;
  for (let seed = 1; seed <= draws; seed++) {
    const values = sample(seed);
    const nEff = correlated ? independenceOf(values).nEff : n;
    const interval = percentileIntervalOfSorted(Float64Array.from(values).sort(), p, nEff)!;
    if (interval.low <= truth && truth <= interval.high) covered++;
  }
  return covered / draws;
}

test('95% intervals cover the true quantile of a known distribution in about 95% of repeated draws', () => {
  const z = { 50: 0, 90: 1.2815515655446004, 99: 2.3263478740408408 } as const;
  for (const p of [50, 90, 99] as const) {
    const share = coverage(400, 2000, p, (seed) => {
      const draw = normals(seed);
      return Float64Array.from({ length: 2000 }, draw);
    }, z[p], false);
    // The binomial interval is conservative (coverage ≥ 95% by construction); 400 draws: SE ≈ 1.1%.
    assert.ok(share >= 0.93 && share <= 0.995, `p${p}: ${share}`);
  }
  // Lognormal latencies: the true p99 is median · e^(0.3 · z0.99).
  const share = coverage(300, 5000, 99, (seed) => iidLatencies(5000, seed), 1e6 * Math.exp(0.3 * z[99]), false);
  assert.ok(share >= 0.93 && share <= 0.995, `lognormal p99: ${share}`);
});

test('with correlated values the effective sample size keeps the coverage; taking them as independent does not', () => {
  const sample = (seed: number) => ar1(4000, 0.8, seed);
  const withNEff = coverage(200, 4000, 50, sample, 0, true);
  const naive = coverage(200, 4000, 50, sample, 0, false);
  assert.ok(withNEff >= 0.93, `with n_eff: ${withNEff}`);
  assert.ok(naive < 0.8, `as if independent: ${naive}`);
});
