/**
 * The fleet's bookkeeping with links that are plain objects: what is added,
 * drained and removed, when health checks take a link out and bring it back,
 * and when passive ejection may take a worker out. Nothing is timed: the
 * health check runs when the test calls it, and ejection times are waited
 * for as events.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { Fleet, type FleetEvent, type FleetLink, type FleetOptions } from './fleet.js';

class FakeLink implements FleetLink {
  admitted = true;
  connected = false;
  inFlight = 0;
  closed = false;
  pings: number[] = [];
  answersPings = true;
  constructor(readonly address: string) {}
  get isReady(): boolean {
    return this.connected && this.admitted;
  }
  ping(n: number): boolean {
    if (!this.connected) return false;
    this.pings.push(n);
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

function fleetOf(extra: Partial<FleetOptions> = {}) {
  const links = new Map<string, FakeLink>();
  const events: FleetEvent[] = [];
  const bus = new EventEmitter();
  const fleet = new Fleet({
    health: { intervalMs: 0, unhealthyThreshold: 2, healthyThreshold: 2 },
    connect: (address) => {
      const l = new FakeLink(address);
      links.set(address, l);
      return [l];
    },
    onEvent: (e) => {
      events.push(e);
      bus.emit(e.event, e);
    },
    ...extra,
  });
  const up = (address: string) => {
    const l = links.get(address)!;
    l.connected = true;
    fleet.linkState(l, true);
    return l;
  };
  return { fleet, links, events, bus, up, kinds: () => events.map((e) => `${e.event} ${e.worker}`) };
}

/** Runs the fleet's health check once, as its interval would. */
const check = (fleet: Fleet) => (fleet as unknown as { check(): void }).check();

test('workers added, drained once their calls are answered, and listed again', async () => {
  const { fleet, links, kinds, up } = fleetOf();
  fleet.set(['a:1', 'b:2']);
  up('a:1');
  up('b:2');
  assert.deepEqual(kinds(), ['added a:1', 'added b:2', 'connected a:1', 'connected b:2']);
  assert.deepEqual(fleet.active, ['a:1', 'b:2']);
  assert.equal(fleet.size, 2);

  const b = links.get('b:2')!;
  b.inFlight = 2;
  fleet.set(['a:1']);
  assert.equal(b.admitted, false, 'a draining worker gets no new calls');
  assert.equal(fleet.stateOf('b:2'), 'draining');
  assert.equal(fleet.size, 1);
  assert.equal(fleet.links.length, 2, 'its link stays, for the calls in flight');
  b.inFlight = 1;
  fleet.settled(b, 'ok');
  await Promise.resolve();
  assert.equal(b.closed, false, 'one call is still in flight');
  b.inFlight = 0;
  fleet.settled(b, 'ok');
  await Promise.resolve();
  assert.equal(b.closed, true);
  assert.equal(fleet.stateOf('b:2'), null);
  assert.deepEqual(kinds().slice(4), ['draining b:2', 'removed b:2']);
  assert.deepEqual(fleet.links.map((l) => l.address), ['a:1']);

  // Listed again while draining: it takes calls again, on the same link.
  const a = links.get('a:1')!;
  a.inFlight = 1;
  fleet.set([]);
  fleet.set(['a:1']);
  assert.equal(a.admitted, true);
  assert.equal(a.closed, false);
  assert.deepEqual(kinds().slice(-2), ['draining a:1', 'added a:1']);
});

test('a worker with nothing in flight is removed as soon as it drains', async () => {
  const { fleet, links, up } = fleetOf();
  fleet.set(['a:1']);
  up('a:1');
  fleet.set([]);
  await Promise.resolve();
  assert.equal(links.get('a:1')!.closed, true);
  assert.equal(fleet.links.length, 0);
});

test('health: unanswered pings take a link out after the threshold, answered ones bring it back', () => {
  const { fleet, kinds, up } = fleetOf();
  fleet.set(['a:1', 'b:2']);
  const a = up('a:1');
  up('b:2');
  check(fleet); // pings sent
  assert.equal(a.pings.length, 1);
  fleet.pong(a, a.pings[0]!);
  check(fleet); // a answered; b did not: one miss
  assert.equal(fleet.stateOf('b:2'), 'active');
  check(fleet); // a did not answer this time: one miss; b two misses
  assert.equal(fleet.stateOf('b:2'), 'unhealthy');
  assert.equal(fleet.stateOf('a:1'), 'active');
  assert.deepEqual(fleet.active, ['a:1']);
  fleet.pong(a, a.pings.at(-1)!);
  // A stale pong (an earlier n) counts for nothing.
  const b = fleet.links[1] as FakeLink;
  fleet.pong(b, b.pings[0]!);
  assert.equal(fleet.stateOf('b:2'), 'unhealthy');
  fleet.pong(b, b.pings.at(-1)!);
  check(fleet);
  fleet.pong(a, a.pings.at(-1)!);
  assert.equal(fleet.stateOf('b:2'), 'unhealthy', 'one pong of the two needed');
  fleet.pong(b, b.pings.at(-1)!);
  assert.equal(fleet.stateOf('b:2'), 'active');
  assert.deepEqual(kinds().filter((k) => /healthy/.test(k)), ['unhealthy b:2', 'healthy b:2']);
});

test('health: the last link that takes calls is never taken out; once another takes calls, it is', () => {
  const { fleet, kinds, up } = fleetOf();
  fleet.set(['a:1']);
  const a = up('a:1');
  for (let i = 0; i < 5; i++) check(fleet); // a answers none
  assert.equal(fleet.stateOf('a:1'), 'active');
  assert.equal(a.admitted, true);
  assert.deepEqual(fleet.active, ['a:1']);
  assert.deepEqual(kinds().filter((k) => /healthy/.test(k)), ['unhealthy a:1'], 'said once');
  fleet.set(['a:1', 'b:2']);
  const b = up('b:2');
  check(fleet);
  fleet.pong(b, b.pings.at(-1)!);
  check(fleet); // b answered: a is no longer the only one
  assert.equal(fleet.stateOf('a:1'), 'unhealthy');
  assert.equal(a.admitted, false);
  assert.deepEqual(fleet.active, ['b:2']);
  // Both silent: b is kept, being the last.
  check(fleet);
  check(fleet);
  assert.equal(fleet.stateOf('b:2'), 'active');
  assert.equal(b.admitted, true);
});

test('a link that cannot ping (a version-1 worker) is never taken out by health checks', () => {
  const { fleet, up } = fleetOf();
  fleet.set(['a:1']);
  const a = up('a:1');
  a.ping = () => false;
  for (let i = 0; i < 5; i++) check(fleet);
  assert.equal(fleet.stateOf('a:1'), 'active');
});

test('ejection after consecutive failures, bounded in share, never the last worker, then readmission', async () => {
  const { fleet, up, bus, kinds } = fleetOf({
    ejection: { consecutive: 3, slowMs: 0, baseMs: 30, maxMs: 300_000, maxPercent: 10 },
  });
  fleet.set(['a:1', 'b:2', 'c:3']);
  const [a, b, c] = ['a:1', 'b:2', 'c:3'].map(up);
  // Two failures, a success: the count starts again.
  fleet.settled(a!, 'failed');
  fleet.settled(a!, 'failed');
  fleet.settled(a!, 'ok');
  fleet.settled(a!, 'failed');
  fleet.settled(a!, 'neutral');
  fleet.settled(a!, 'failed');
  assert.equal(fleet.stateOf('a:1'), 'active');
  const ejected = once(bus, 'readmitted');
  fleet.settled(a!, 'failed');
  assert.equal(fleet.stateOf('a:1'), 'ejected');
  assert.equal(a!.admitted, false);
  // 10 % of three is none, but one may always be ejected: not a second.
  for (let i = 0; i < 3; i++) fleet.settled(b!, 'failed');
  assert.equal(fleet.stateOf('b:2'), 'active');
  // The readmission timer is unref'd (it must not hold a gateway open): hold the loop while waiting.
  const hold = setInterval(() => {}, 1000);
  await ejected.finally(() => clearInterval(hold));
  assert.equal(fleet.stateOf('a:1'), 'active');
  assert.equal(a!.admitted, true);
  // Never the last worker that takes calls.
  c!.connected = false;
  fleet.linkState(c!, false);
  for (let i = 0; i < 3; i++) fleet.settled(b!, 'failed');
  assert.equal(fleet.stateOf('b:2'), 'ejected');
  for (let i = 0; i < 3; i++) fleet.settled(a!, 'failed');
  assert.equal(fleet.stateOf('a:1'), 'active', 'the only worker left taking calls stays');
  assert.deepEqual(kinds().filter((k) => /ejected|readmitted/.test(k)), ['ejected a:1', 'readmitted a:1', 'ejected b:2']);
  fleet.close();
});

test('a worker ejected again soon is out longer: base time × its ejections', () => {
  let t = 0;
  const { fleet, up, events } = fleetOf({
    nowMs: () => t,
    ejection: { consecutive: 1, slowMs: 0, baseMs: 1000, maxMs: 2500, maxPercent: 100 },
  });
  fleet.set(['a:1', 'b:2']);
  const a = up('a:1');
  up('b:2');
  fleet.settled(a, 'failed');
  const readmit = () => {
    const timer = (fleet as unknown as { members: Map<string, { ejectTimer: NodeJS.Timeout; ejected: boolean; admittedAt: number }> }).members.get('a:1')!;
    clearTimeout(timer.ejectTimer);
    timer.ejected = false;
    timer.admittedAt = t;
  };
  readmit();
  fleet.settled(a, 'failed');
  readmit();
  fleet.settled(a, 'failed');
  readmit();
  t += 2000; // two base times admitted: two ejections forgiven
  fleet.settled(a, 'failed');
  readmit();
  const times = events.filter((e) => e.event === 'ejected').map((e) => e.detail);
  assert.deepEqual(times, [
    '1 failed calls in a row; for 1000 ms',
    '1 failed calls in a row; for 2000 ms',
    '1 failed calls in a row; for 2500 ms',
    '1 failed calls in a row; for 2000 ms',
  ]);
  fleet.close();
});
