import { test } from 'node:test';
import assert from 'node:assert/strict';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { iidLatencies } from '../testing/series.js';
import { independenceOf } from './independence.js';
import { mannKendall, pettitt, steadyStateOf } from './steady-state.js';

const judge = (series: Float64Array) => steadyStateOf(series, independenceOf(series).lag);

test('Mann–Kendall: S, its tie-corrected variance and p as the published formulas give them', () => {
  // y = 5 5 6 7 7 7 9: S = 17 (pairs counted by hand); ties 2 and 3:
  // Var S = [7·6·19 − (2·1·9 + 3·2·11)]/18 = 39.667; Z = (S − 1)/√Var = 2.5404; p = 0.01107
  // (Kendall 1975; Gilbert 1987, Statistical Methods for Environmental Pollution Monitoring, §16.4).
  const r = mannKendall([5, 5, 6, 7, 7, 7, 9]);
  assert.equal(r.s, 17);
  assert.ok(Math.abs(r.z - 2.540429395319823) < 1e-9);
  assert.ok(Math.abs(r.p - 2 * (1 - normalCdf(2.540429395319823, 0, 1))) < 1e-12);
  assert.ok(Math.abs(r.p - 0.011071644553191984) < 1e-9);
});

test("Pettitt: K = max |2 Σ r_i − t(n+1)| and p = 2·exp(−6K²/(n³+n²)) (Pettitt 1979)", () => {
  // Ranks of 1 2 3 10 11 12 are 1..6: U_t = 2(1+…+t) − 7t = t² − 6t, largest |U| = 9 at t = 3.
  const r = pettitt([1, 2, 3, 10, 11, 12]);
  assert.equal(r.k, 9);
  assert.equal(r.at, 0.5);
  assert.ok(Math.abs(r.p - 2 * Math.exp((-6 * 81) / (216 + 36))) < 1e-12);
});

test('independent latencies are steady, seed after seed', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = judge(iidLatencies(10_000, seed));
    assert.equal(r.steady, true, `seed ${seed}: ${r.reasons.join('; ')}`);
  }
});

test('a trend is flagged', () => {
  const base = iidLatencies(10_000, 3);
  const trending = base.map((v, i) => v * (1 + (0.5 * i) / base.length));
  const r = judge(trending);
  assert.equal(r.steady, false);
  assert.equal(r.trend!.flagged, true);
  assert.ok(r.trend!.change > 0.35 && r.trend!.change < 0.65, `change ${r.trend!.change}`);
});

test('a level shift is flagged, where it happened', () => {
  const base = iidLatencies(10_000, 4);
  const shifted = base.map((v, i) => (i >= 6000 ? v * 1.4 : v));
  const r = judge(shifted);
  assert.equal(r.steady, false);
  assert.equal(r.levelShift!.flagged, true);
  assert.ok(Math.abs(r.levelShift!.at - 0.6) < 0.03, `at ${r.levelShift!.at}`);
  assert.ok(Math.abs(r.levelShift!.shift - 0.4) < 0.1, `shift ${r.levelShift!.shift}`);
});

test('a transient at the start of the window says the warm-up was too short', () => {
  const base = iidLatencies(10_000, 5);
  // Twice as slow at first, settling within the first 15% of the window.
  const warming = base.map((v, i) => v * (1 + Math.max(0, 1 - i / 1500)));
  const r = judge(warming);
  assert.equal(r.steady, false);
  assert.equal(r.warmup!.enough, false);
  assert.ok(r.warmup!.discard > 0 && r.warmup!.discard <= 0.5, `discard ${r.warmup!.discard}`);
});

test('too few requests cannot be judged', () => {
  const r = judge(iidLatencies(60, 1));
  assert.equal(r.steady, null);
  assert.equal(r.batches, 0);
});
