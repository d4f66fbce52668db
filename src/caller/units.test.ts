import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../flags.js';
import { parseConnections, parseHeader } from './units.js';

test('durations take ms, s, m, h; a bare number is seconds', () => {
  assert.equal(parseDuration('10s', 'd'), 10_000);
  assert.equal(parseDuration('500ms', 'd'), 500);
  assert.equal(parseDuration('1.5m', 'd'), 90_000);
  assert.equal(parseDuration('2', 'd'), 2000);
  assert.equal(parseDuration('0s', 'd'), 0);
  for (const bad of ['', '10q', '-1s', 's', '1e3']) assert.throws(() => parseDuration(bad, '--duration'), /--duration/);
});

test('connections: one count or a list', () => {
  assert.deepEqual(parseConnections('150'), [150]);
  assert.deepEqual(parseConnections('1, 10,50'), [1, 10, 50]);
  for (const bad of ['0', '1,,2', 'x', '1.5', '10001', '']) assert.throws(() => parseConnections(bad), /--connections/);
});

test('headers split at the first colon', () => {
  assert.deepEqual(parseHeader('content-type: image/jpeg'), ['content-type', 'image/jpeg']);
  assert.deepEqual(parseHeader('a:b:c'), ['a', 'b:c']);
  assert.throws(() => parseHeader('nocolon'), /--header/);
});
