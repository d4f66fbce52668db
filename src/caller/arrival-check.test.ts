import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../stats/random.js';
import { poissonTimes } from '../testing/series.js';
import { GapSampler, rateVerdict } from './arrival-check.js';

/** Send times (ns) as an event loop makes them: each due time late by up to one ~1 ms timer tick, sends in a tick leaving together. */
function sent(dueMs: Float64Array, seed: number): bigint[] {
  const random = seededRandom(seed);
  const tick = 1.1;
  return Array.from(dueMs, (t) => BigInt(Math.round((Math.ceil(t / tick) * tick + 0.05 * random()) * 1e6)));
}

const check = (times: bigint[], lagP99Ms = 1.2) => {
  const g = new GapSampler();
  for (const t of times) g.add(t);
  return g.check(lagP99Ms);
};

test('Poisson sends pass the gap test, through the caller\'s timer ticks too', () => {
  for (const [rate, seed] of [[0.05, 1], [0.2, 2], [0.5, 3]] as const) {
    const due = poissonTimes(20_000, rate, seed);
    assert.equal(check(Array.from(due, (t) => BigInt(Math.round(t * 1e6)))).passed, true, `exact, ${rate * 1000}/s`);
    const r = check(sent(due, seed));
    assert.equal(r.passed, true, `ticked, ${rate * 1000}/s: A² ${r.a2} on ${r.tested}`);
    assert.ok(r.tested <= 5000);
  }
});

test('evenly spaced sends fail it', () => {
  for (const gapMs of [5, 20, 100]) {
    const even = Float64Array.from({ length: 2000 }, (_, i) => i * gapMs);
    assert.equal(check(sent(even, 1)).passed, false, `every ${gapMs} ms`);
  }
});

test('too few gaps beyond the caller\'s timing error are not judged', () => {
  const due = poissonTimes(200, 0.05, 4);
  const r = check(sent(due, 4), 500);
  assert.equal(r.passed, null);
  assert.equal(r.floorMs, 504);
});

test('the rate check warns at a 10% shortfall and fails at 20%, as In-Vitro', () => {
  assert.equal(rateVerdict(100, 91).verdict, 'ok');
  assert.equal(rateVerdict(100, 90).verdict, 'warn');
  assert.equal(rateVerdict(100, 81).verdict, 'warn');
  assert.equal(rateVerdict(100, 80).verdict, 'fail');
  assert.equal(rateVerdict(0, 0).verdict, 'ok');
});
