import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMedians } from './bootstrap.js';
import { seededRandom } from './random.js';
import { rankIndex } from '../../stats/percentiles.js';

test('the Beta shortcut draws the medians an ordinary resample-and-sort bootstrap draws', () => {
  const n = 41;
  const sorted = Float64Array.from({ length: n }, (_, i) => i);
  const draws = 40_000;
  const shortcut = new Float64Array(n);
  for (const v of bootstrapMedians(sorted, draws, seededRandom(7))) shortcut[v]! += 1 / draws;
  const direct = new Float64Array(n);
  const random = seededRandom(8);
  const resample = new Float64Array(n);
  for (let b = 0; b < draws; b++) {
    for (let i = 0; i < n; i++) resample[i] = sorted[Math.floor(random() * n)]!;
    resample.sort();
    direct[resample[rankIndex(n, 50)]!]! += 1 / draws;
  }
  // Total variation distance between the two distributions of the median's index.
  let tv = 0;
  for (let i = 0; i < n; i++) tv += Math.abs(shortcut[i]! - direct[i]!) / 2;
  assert.ok(tv < 0.03, `total variation ${tv.toFixed(4)}`);
  assert.ok(shortcut[20]! > 0.1, 'the middle is the likeliest median');
});

test('the same seed gives the same resampled medians', () => {
  const sorted = Float64Array.from({ length: 1000 }, (_, i) => i * 1.5);
  assert.deepEqual(bootstrapMedians(sorted, 500, seededRandom(1)), bootstrapMedians(sorted, 500, seededRandom(1)));
  assert.notDeepEqual(bootstrapMedians(sorted, 500, seededRandom(1)), bootstrapMedians(sorted, 500, seededRandom(2)));
});
