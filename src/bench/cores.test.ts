import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCoreList } from './cores.js';

test("taskset's core lists read as core numbers", () => {
  assert.deepEqual(parseCoreList('0,1'), [0, 1]);
  assert.deepEqual(parseCoreList('2-4,7'), [2, 3, 4, 7]);
  assert.deepEqual(parseCoreList('5'), [5]);
});
