import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../flags.js';
import { parseConnections, parseHeader, parseStartAt, splitUrls } from './units.js';

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

test('URLs: repeated or comma-separated; a comma inside a query stays', () => {
  assert.deepEqual(splitUrls(['http://a:1/x?q=1,2', 'http://b:2/x?q=1,2, http://c:3/x?q=1,2']), [
    'http://a:1/x?q=1,2',
    'http://b:2/x?q=1,2',
    'http://c:3/x?q=1,2',
  ]);
  assert.deepEqual(splitUrls(['tcp://a:1/math?n=5,tcp://b:2/math?n=5']), ['tcp://a:1/math?n=5', 'tcp://b:2/math?n=5']);
});

test('start times: ISO 8601 with a zone, or epoch seconds', () => {
  assert.equal(parseStartAt('2026-11-26T17:00:00Z'), Date.UTC(2026, 10, 26, 17));
  assert.equal(parseStartAt('2026-11-26T18:00:00.250+01:00'), Date.UTC(2026, 10, 26, 17, 0, 0, 250));
  assert.equal(parseStartAt('1795712400.5'), 1_795_712_400_500);
  // Without a zone each host would read its own local time: refused.
  for (const bad of ['2026-11-26T17:00:00', 'tomorrow', '', '-5', '1e9']) assert.throws(() => parseStartAt(bad), /--start-at/);
});
