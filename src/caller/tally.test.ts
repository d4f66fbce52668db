import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureClass, IntervalTally, Tally } from './tally.js';
import type { CallerOutcome } from '../trace/records.js';

const outcome = (warmup: boolean, status: number, error: string | null = null): CallerOutcome => ({
  id: 'x',
  warmup,
  status,
  bytes: 10,
  error,
  t0: 1_000n,
  t6: 2_000_000n,
  t0_intended: null,
});

test('failure classes: socket errors by name, answers outside 2xx by status class', () => {
  assert.equal(failureClass({ status: 200, error: null }), null);
  assert.equal(failureClass({ status: 204, error: null }), null);
  assert.equal(failureClass({ status: 301, error: null }), 'status_3xx');
  assert.equal(failureClass({ status: 404, error: null }), 'status_4xx');
  assert.equal(failureClass({ status: 503, error: null }), 'status_5xx');
  assert.equal(failureClass({ status: 0, error: 'econnreset' }), 'econnreset');
});

test('the figures count measured failures only; progress counts every phase, per interval', () => {
  const t = new Tally();
  t.interval = new IntervalTally();
  for (const o of [outcome(true, 500), outcome(true, 0, 'timeout'), outcome(false, 200), outcome(false, 500), outcome(false, 0, 'econnreset')]) t.add(o);
  assert.deepEqual(t.errors, { status_5xx: 1, econnreset: 1 }, 'warm-up failures stay out of the figures');
  assert.equal(t.measuredRequests, 3);
  assert.equal(t.measuredResponses, 2);
  assert.deepEqual(t.statusCounts, { 200: 1, 500: 1 });
  assert.equal(t.latency.summary().count, 2, 'both answers have a latency');
  assert.equal(t.failed, 4);
  assert.deepEqual([t.interval.completed, t.interval.errors, t.interval.latency.summary().count], [5, 4, 3]);
  t.interval.reset();
  assert.deepEqual([t.interval.completed, t.interval.errors, t.interval.latency.summary().count], [0, 0, 0]);
  t.add(outcome(false, 200));
  assert.equal(t.interval.latency.summary().p50, 1999, 'a reset histogram records afresh (µs)');
});
