import assert from 'node:assert/strict';
import { test } from 'node:test';
import { balancer, type Candidate } from './balance.js';

const picks = (policy: Parameters<typeof balancer>[0], cs: Candidate[], n: number, random?: () => number) => {
  const pick = balancer(policy, random);
  const counts = cs.map(() => 0);
  for (let k = 0; k < n; k++) {
    const i = pick(cs);
    if (i >= 0) counts[i]!++;
  }
  return counts;
};

test('round-robin goes in turn over the ready connections, whatever their load', () => {
  const cs = [
    { isReady: true, inFlight: 50 },
    { isReady: false, inFlight: 0 },
    { isReady: true, inFlight: 0 },
    { isReady: true, inFlight: 3 },
  ];
  assert.deepEqual(picks('round-robin', cs, 9), [3, 0, 3, 3]);
});

test('least-outstanding picks the fewest in flight, and spreads ties in turn', () => {
  const cs = [
    { isReady: true, inFlight: 2 },
    { isReady: true, inFlight: 1 },
    { isReady: false, inFlight: 0 },
  ];
  assert.deepEqual(picks('least-outstanding', cs, 5), [0, 5, 0]);
  const idle = [0, 1, 2].map(() => ({ isReady: true, inFlight: 0 }));
  assert.deepEqual(picks('least-outstanding', idle, 9), [3, 3, 3]);
});

test('p2c takes the less busy of two distinct draws', () => {
  const cs = [
    { isReady: true, inFlight: 5 },
    { isReady: true, inFlight: 1 },
    { isReady: true, inFlight: 9 },
  ];
  // Draws a=0 then b=(0+1+0)%3=1: connection 1 has fewer in flight.
  assert.equal(balancer('p2c', () => 0)(cs), 1);
  // Draws a=2 then b=(2+1+1)%3=1: connection 1 beats 2.
  assert.equal(balancer('p2c', () => 0.99)(cs), 1);
  // Draws a=2 then b=(2+1+0)%3=0: connection 0 beats 2.
  assert.equal(balancer('p2c', seq([0.99, 0]))(cs), 0);
  // The busiest of three is never chosen: it always loses its pair.
  const counts = picks('p2c', cs, 300, seeded(7));
  assert.equal(counts[2], 0);
  assert.ok(counts[0]! > 0 && counts[1]! > counts[0]!, String(counts));
});

test('no ready connection: -1 from every policy; one: that one', () => {
  for (const policy of ['round-robin', 'least-outstanding', 'p2c'] as const) {
    assert.equal(balancer(policy)([{ isReady: false, inFlight: 0 }]), -1);
    assert.equal(balancer(policy)([]), -1);
    assert.equal(balancer(policy)([{ isReady: false, inFlight: 0 }, { isReady: true, inFlight: 4 }]), 1);
  }
});

function seq(values: number[]): () => number {
  let k = 0;
  return () => values[k++ % values.length]!;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}
