import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ar1, iidLatencies } from '../testing/series.js';
import { independenceOf, WEAK } from './independence.js';

/** Spearman correlation of a bivariate normal with Pearson ρ: (6/π)·asin(ρ/2) (Pearson 1907; Kendall & Gibbons 1990). */
const spearmanOf = (rho: number) => (6 / Math.PI) * Math.asin(rho / 2);

/** The first lag k at which an AR(1)'s rank autocorrelation (6/π)·asin(φ^k/2) falls below WEAK. */
function impliedLag(phi: number): number {
  let k = 1;
  while (spearmanOf(phi ** k) >= WEAK) k++;
  return k;
}

/** τ of the ranks, 1 + 2 Σ ρs(k), summed far enough to converge. */
function impliedTau(phi: number): number {
  let tau = 1;
  for (let k = 1; k < 10_000; k++) tau += 2 * spearmanOf(phi ** k);
  return tau;
}

test('independent latencies: lag 1, and every value counts', () => {
  const r = independenceOf(iidLatencies(20_000, 7));
  assert.equal(r.lag, 1);
  assert.ok(Math.abs(r.lag1) < 0.03, `lag-1 correlation ${r.lag1}`);
  assert.ok(r.nEff > 0.9 * r.n, `n_eff ${r.nEff} of ${r.n}`);
});

test('an AR(1) series gives the lag and the effective size its coefficient implies', () => {
  assert.equal(impliedLag(0.5), 4);
  assert.equal(impliedLag(0.9), 22);
  const half = independenceOf(ar1(1 << 16, 0.5, 11));
  assert.equal(half.lag, 4);
  assert.ok(Math.abs(half.tau / impliedTau(0.5) - 1) < 0.1, `τ ${half.tau} vs ${impliedTau(0.5)}`);
  const strong = independenceOf(ar1(1 << 16, 0.9, 12));
  assert.ok(Math.abs(strong.lag! - 22) <= 2, `lag ${strong.lag}`);
  assert.ok(Math.abs(strong.tau / impliedTau(0.9) - 1) < 0.15, `τ ${strong.tau} vs ${impliedTau(0.9)}`);
  assert.ok(Math.abs(strong.nEff - strong.n / impliedTau(0.9)) / strong.nEff < 0.15);
});

test('a long series is read in blocks, and a short one is not judged', () => {
  const long = independenceOf(ar1(400_000, 0.5, 3));
  assert.equal(long.lag, 4);
  assert.equal(long.n, 400_000);
  const short = independenceOf(new Float64Array(10).fill(1));
  assert.equal(short.judged, false);
  assert.equal(short.nEff, 10);
  const constant = independenceOf(new Float64Array(100).fill(5));
  assert.equal(constant.tau, 1);
});
