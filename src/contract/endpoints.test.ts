import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENDPOINTS, ParameterError } from './endpoints.js';

const reader = (q: Record<string, string | string[]>) => (k: string) => q[k];

test('defaults follow the original report', () => {
  assert.deepEqual(ENDPOINTS.sleep.args(reader({})), { ms: 1000 });
  assert.deepEqual(ENDPOINTS.math.args(reader({})), { n: 100_000 });
  assert.deepEqual(ENDPOINTS.image.args(reader({})), { width: 320 });
});

test('integers are accepted up to their bounds', () => {
  assert.deepEqual(ENDPOINTS.sleep.args(reader({ ms: '0' })), { ms: 0 });
  assert.deepEqual(ENDPOINTS.sleep.args(reader({ ms: '25000' })), { ms: 25_000 });
  assert.deepEqual(ENDPOINTS.math.args(reader({ n: '9007199254740991' })), { n: Number.MAX_SAFE_INTEGER });
});

test('anything but a plain in-range integer given once is a ParameterError', () => {
  const bad: Array<[keyof typeof ENDPOINTS, Record<string, string | string[]>]> = [
    ['sleep', { ms: '-1' }],
    ['sleep', { ms: '25001' }],
    ['sleep', { ms: '' }],
    ['math', { n: '' }],
    ['sleep', { ms: '1.5' }],
    ['sleep', { ms: '1e3' }],
    ['sleep', { ms: 'abc' }],
    ['sleep', { ms: ['1', '2'] }],
    ['math', { n: '0' }],
    ['math', { n: '9007199254740992' }],
    ['math', { n: '99999999999999999999' }],
    ['math', { n: '0x10' }],
    ['image', { width: '4097' }],
    ['image', { width: ' 5' }],
  ];
  for (const [name, q] of bad) {
    assert.throws(() => ENDPOINTS[name].args(reader(q)), ParameterError, `${name} ${JSON.stringify(q)}`);
  }
});
