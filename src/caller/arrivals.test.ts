import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { andersonDarlingExponential } from '../stats/anderson-darling.js';
import { ArrivalError, parseArrival, readTrace, scheduleOf } from './arrivals.js';

const dir = mkdtempSync(join(tmpdir(), 'faasbench-arrivals-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const offsets = (s: ReturnType<typeof scheduleOf>, n: number) => Array.from({ length: n }, (_, i) => s.at(i));

test('--arrival is parsed, and a wrong one is refused in one line', () => {
  assert.deepEqual(parseArrival('poisson'), { kind: 'poisson' });
  assert.deepEqual(parseArrival('azure:/tmp/x.csv'), { kind: 'trace', format: 'azure', file: '/tmp/x.csv' });
  assert.throws(() => parseArrival('bursty'), /must be uniform, poisson, or a trace as intervals:FILE/);
  assert.throws(() => parseArrival('azure:'), ArrivalError);
});

test('uniform arrivals are evenly spaced, as before', () => {
  assert.deepEqual(offsets(scheduleOf({ kind: 'uniform' }, { rate: 100, seed: 0 }), 4), [0, 10_000_000, 20_000_000, 30_000_000]);
});

test('Poisson arrivals: a seed replays them; their gaps are exponential at the rate', () => {
  const a = scheduleOf({ kind: 'poisson' }, { rate: 500, seed: 42 });
  const b = scheduleOf({ kind: 'poisson' }, { rate: 500, seed: 42 });
  const times = offsets(a, 20_001);
  assert.deepEqual(times.slice(0, 50), offsets(b, 50));
  assert.equal(times[0], 0);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  assert.ok(Math.abs(mean / 2e6 - 1) < 0.03, `mean gap ${mean} ns, expected 2 ms`);
  assert.equal(andersonDarlingExponential(gaps.slice(0, 2000)).rejectedAt, null);
  // Released offsets are gone, later ones stay: memory for the unsent only.
  a.release(15_000);
  assert.equal(a.at(15_000), times[15_000]);
  assert.throws(() => a.at(10), /released/);
});

test('traces of gaps and of timestamps, replayed faster', () => {
  const gaps = scheduleOf({ kind: 'trace', format: 'intervals', file: file('gaps.txt', '# ms\n10\n20\n\n5\n') }, { seed: 0 });
  assert.deepEqual(offsets(gaps, 5), [0, 10e6, 30e6, 35e6, Number.POSITIVE_INFINITY]);
  assert.equal(gaps.lastNs, 35e6);
  const stamps = scheduleOf({ kind: 'trace', format: 'timestamps', file: file('t.txt', '1000\n1000\n1500\n3000\n') }, { seed: 0, speed: 2 });
  assert.deepEqual(offsets(stamps, 4), [0, 0, 250e6, 1000e6]);
  assert.equal(stamps.rate, 3);
  assert.throws(() => readTrace('timestamps', file('back.txt', '5\n3\n'), { seed: 0 }), /must not decrease \(3 after 5\)/);
  assert.throws(() => readTrace('intervals', file('bad.txt', '5\nfast\n'), { seed: 0 }), /bad\.txt:2: expected a number of milliseconds/);
  assert.throws(() => readTrace('intervals', join(dir, 'none.txt'), { seed: 0 }), /cannot read the trace .*ENOENT/);
});

test('the Azure trace: every function\'s counts summed per minute, spread within the minute', () => {
  const csv = file('azure.csv', 'HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f1,http,3,0,2\no,a,f2,timer,1,0,1\n');
  const even = readTrace('azure', csv, { seed: 1, spread: 'equidistant' });
  assert.deepEqual([...even], [0, 15_000, 30_000, 45_000, 120_000, 140_000, 160_000]);
  const drawn = readTrace('azure', csv, { seed: 1, spread: 'uniform' });
  assert.equal(drawn.length, 7);
  assert.ok(drawn.slice(0, 4).every((t) => t >= 0 && t < 60_000));
  assert.ok(drawn.slice(4).every((t) => t >= 120_000 && t < 180_000));
  assert.deepEqual([...drawn], [...drawn].sort((x, y) => x - y));
  assert.deepEqual([...readTrace('azure', csv, { seed: 1 })], [...drawn], 'seeded');
  assert.throws(() => readTrace('azure', file('x.csv', 'a,b\n1,2\n'), { seed: 1 }), /not an Azure Functions invocation trace/);
  assert.throws(() => readTrace('azure', file('y.csv', 'HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,-1\n'), { seed: 1 }), /minute 1 must be a count/);
});

test('the shipped example is an Azure trace of a day: 1,440 minutes, four functions', () => {
  const times = readTrace('azure', new URL('../../../examples/azure-trace.csv', import.meta.url).pathname, { seed: 7 });
  assert.ok(times.length > 30_000, `${times.length} invocations`);
  assert.ok(times[times.length - 1]! < 1440 * 60_000);
});
