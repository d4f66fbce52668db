import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from './semaphore.js';

test('at most `limit` holders at once, the rest in arrival order', async () => {
  const s = new Semaphore(2);
  const order: number[] = [];
  const releases = await Promise.all([s.acquire(), s.acquire()]);
  const third = s.acquire().then((r) => (order.push(3), r));
  const fourth = s.acquire().then((r) => (order.push(4), r));
  assert.equal(s.running, 2);
  assert.equal(s.waiting, 2);
  releases[0]!();
  releases[0]!(); // a second release of the same slot is ignored
  await third;
  assert.deepEqual(order, [3]);
  assert.equal(s.running, 2);
  releases[1]!();
  (await fourth)();
  assert.deepEqual(order, [3, 4]);
});

test('an aborted waiter leaves the queue and never takes a slot', async () => {
  const s = new Semaphore(1);
  const held = await s.acquire();
  const controller = new AbortController();
  const waiting = s.acquire(controller.signal);
  controller.abort(new Error('time limit'));
  await assert.rejects(waiting, /time limit/);
  assert.equal(s.waiting, 0);
  held();
  assert.equal(s.running, 0);
  assert.throws(() => new Semaphore(0), RangeError);
});
