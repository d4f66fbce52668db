/**
 * The radix sorts give exactly the order of V8's own sort, on each of their
 * paths: integer offsets (durations), doubles with 11- and 16-bit digits,
 * and the stable argsort of integer stamps beyond 2^32.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argsortStable, sortFloat64 } from './sort.js';
import { seededRandom } from '../../stats/random.js';

const random = seededRandom(7);
const of = (n: number, value: () => number) => Float64Array.from({ length: n }, value);

test('sortFloat64 sorts as Float64Array.prototype.sort on every path', () => {
  const cases: Array<[string, Float64Array]> = [
    ['integer durations (offsets)', of(5000, () => Math.floor(random() * 1e9))],
    ['doubles, 11-bit digits', of(5000, () => (random() - 0.5) * 1e6)],
    ['doubles, 16-bit digits', of(70_000, () => (random() - 0.5) * 1e12)],
    ['integers spanning more than 2^32', of(5000, () => Math.floor(random() * 2 ** 50))],
  ];
  for (const [what, values] of cases) assert.deepEqual(sortFloat64(values.slice()), values.slice().sort(), what);
});

test('argsortStable orders by key, ties in their given order, keys beyond 2^32 apart', () => {
  const n = 5000;
  const keys = of(n, () => 2 ** 40 + Math.floor(random() * 100) * 2 ** 33);
  const values = Uint32Array.from({ length: n }, (_, i) => i);
  const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
  assert.deepEqual([...argsortStable(keys, values)], expected);
});
