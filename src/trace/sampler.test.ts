import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Sampler, type Sample } from './sampler.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test("each sampler counts its thread's collections, once each, with the longest no longer than the total", async () => {
  const a: Sample[] = [];
  const b: Sample[] = [];
  const first = new Sampler({ intervalMs: 60_000, onSample: (s) => a.push(s) }).start();
  const second = new Sampler({ intervalMs: 60_000, onSample: (s) => b.push(s) }).start();
  for (let i = 0; i < 3; i++) gc();
  // node reports a collection from an immediate after it.
  await immediate();
  await sleep(20);
  first.stop();
  second.stop();
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  const [x, y] = [a[0]!, b[0]!];
  assert.ok(x.gcCount >= 3, `${x.gcCount} collections`);
  assert.equal(y.gcCount, x.gcCount);
  assert.ok(x.gcPauseUs > 0 && x.gcMaxPauseUs > 0 && x.gcMaxPauseUs <= x.gcPauseUs, `${x.gcMaxPauseUs} of ${x.gcPauseUs} µs`);
  // A second stop takes no second, empty sample.
  first.stop();
  second.stop();
  assert.equal(a.length + b.length, 2);
});
