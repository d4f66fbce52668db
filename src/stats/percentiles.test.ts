import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { analyze } from '../analysis/analyze.js';
import { compareMedians } from '../analysis/compute/bootstrap.js';
import { DEFAULT_HOSTS, HOURS, requestLines, trueStamps, writeRecordDir } from '../testing/analysis-records.js';
import { seededRandom } from '../analysis/compute/random.js';
import { percentileOfSorted } from './percentiles.js';
import { busyTime } from '../analysis/compute/throughput.js';

/** Nearest rank, written out independently: the value at rank ⌈p/100 · n⌉ (p as a fraction of integers). */
function direct(values: number[], num: number, den: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((num * values.length) / den));
  return sorted[rank - 1]!;
}

test('nearest-rank percentiles, including p99.9 at sizes where floating point would round the rank', () => {
  for (const n of [1, 2, 10, 999, 1000, 1001, 12_345]) {
    const values = Float64Array.from({ length: n }, (_, k) => (k * 7919) % 100_003).sort();
    const list = [...values];
    assert.equal(percentileOfSorted(values, 50), direct(list, 1, 2), `p50 n=${n}`);
    assert.equal(percentileOfSorted(values, 90), direct(list, 9, 10), `p90 n=${n}`);
    assert.equal(percentileOfSorted(values, 99), direct(list, 99, 100), `p99 n=${n}`);
    assert.equal(percentileOfSorted(values, 99.9), direct(list, 999, 1000), `p99.9 n=${n}`);
  }
  assert.ok(Number.isNaN(percentileOfSorted(new Float64Array(0), 50)));
});

test('per framework × endpoint figures equal a direct computation from the laid-out durations', async () => {
  const random = seededRandom(42);
  const truth = new Map<string, { fn: number[]; respond: number[]; roundtrip: number[]; t0: number[]; t6: number[] }>();
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  let at = 0n;
  for (let k = 0; k < 2002; k++) {
    const framework = k % 2 ? 'express' : 'node';
    const fnNs = BigInt(1_000 + Math.floor(random() * 2_000_000));
    const respondNs = BigInt(5_000 + Math.floor(-Math.log(1 - random()) * 40_000));
    const r = requestLines({ id: `s${k}`, at, framework, fn: 'math', d: { function: fnNs, respond: respondNs } });
    lines.caller.push(r.caller);
    lines.gateway.push(r.gateway);
    lines.worker.push(r.worker);
    const c = JSON.parse(r.caller) as { t0: string; t6: string };
    const roundtrip = Number(BigInt(c.t6) - BigInt(c.t0));
    let cell = truth.get(framework);
    if (!cell) truth.set(framework, (cell = { fn: [], respond: [], roundtrip: [], t0: [], t6: [] }));
    cell.fn.push(Number(fnNs));
    cell.respond.push(Number(respondNs));
    cell.roundtrip.push(roundtrip);
    cell.t0.push(Number(at));
    cell.t6.push(Number(at) + roundtrip);
    // One request at a time, then a 1 ms pause.
    at += BigInt(roundtrip) + 1_000_000n;
  }
  const dir = await writeRecordDir(lines);
  try {
    const { summary } = await analyze({ inputs: [dir], csv: false, resamples: 500 });
    assert.equal(summary.groups.length, 2);
    for (const g of summary.groups) {
      const want = truth.get(g.framework)!;
      assert.equal(g.measured, 1001);
      for (const [stage, values] of [['function', want.fn], ['respond', want.respond], ['roundtrip', want.roundtrip]] as const) {
        const s = g.stages[stage]!;
        const us = (ns: number) => ns * 1e-3;
        assert.equal(s.count, values.length, stage);
        assert.equal(s.min, us(Math.min(...values)), `${g.framework} ${stage} min`);
        assert.equal(s.max, us(Math.max(...values)), `${g.framework} ${stage} max`);
        assert.equal(s.p50, us(direct(values, 1, 2)), `${g.framework} ${stage} p50`);
        assert.equal(s.p90, us(direct(values, 9, 10)), `${g.framework} ${stage} p90`);
        assert.equal(s.p99, us(direct(values, 99, 100)), `${g.framework} ${stage} p99`);
        assert.equal(s.p99_9, us(direct(values, 999, 1000)), `${g.framework} ${stage} p99.9`);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        assert.ok(Math.abs(s.mean - us(mean)) < 1e-6, `${g.framework} ${stage} mean`);
      }
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(g.outside_function_share - (1 - sum(want.fn) / sum(want.roundtrip))) < 1e-12);
      assert.ok(Math.abs(g.respond_share - sum(want.respond) / sum(want.roundtrip)) < 1e-12);
      const shares = Object.values(g.shares).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(shares - 1) < 1e-12, 'the seven shares add up to 1');
      // One caller run holds both frameworks: each is measured from its first send to its last answer.
      const busy = (Math.max(...want.t6) - Math.min(...want.t0)) / 1e9;
      assert.ok(Math.abs(g.throughput.busy_s - busy) < 1e-9);
      assert.ok(Math.abs(g.throughput.requests_per_s - 1001 / busy) < 1e-6);
    }
    const byEndpoint = summary.answer.by_endpoint;
    assert.equal(byEndpoint.length, 1);
    assert.equal(byEndpoint[0]!.count, 2002);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('throughput: an open loop below capacity counts its idle gaps, rounds count their own spans, and callers add up', async () => {
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  const push = (r: { caller: string; gateway: string; worker: string }) => {
    lines.caller.push(r.caller);
    lines.gateway.push(r.gateway);
    lines.worker.push(r.worker);
  };
  // 100/s for 1 s per round, each request answered in ~1.3 ms: in flight ~13% of the time.
  // Round 2 starts an hour later: the hour between rounds is not measured time.
  const roundStarts = [0n, HOURS];
  for (const [r, start] of roundStarts.entries()) {
    for (let k = 0; k < 100; k++) {
      const due = start + BigInt(k) * 10_000_000n;
      push(requestLines({ id: `c00000000000${r}-${k}`, at: due + 50_000n, dueAt: due, framework: 'node', fn: 'empty', connections: 4 }));
    }
  }
  // A second caller host at the same time sends 100 more in its own run.
  const other = { ...DEFAULT_HOSTS, caller: 'caller-b', callerBase: 7n * HOURS };
  for (let k = 0; k < 100; k++) push(requestLines({ id: `cbbbbbbbbbbbb-${k}`, at: BigInt(k) * 10_000_000n, framework: 'node', fn: 'empty', connections: 4 }, other));
  const dir = await writeRecordDir(lines);
  try {
    const { summary } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
    const tp = summary.groups[0]!.throughput;
    const roundtrip = Number(trueStamps(0n).t6 - trueStamps(0n).t0);
    // Caller A: two spans from the first due time to the last answer; caller B: one span from its first send.
    const spanA = (99 * 10_000_000 + 50_000 + roundtrip) / 1e9;
    const spanB = (99 * 10_000_000 + roundtrip) / 1e9;
    assert.ok(Math.abs(tp.busy_s - (2 * spanA + spanB)) < 1e-9, `busy ${tp.busy_s}`);
    assert.ok(Math.abs(tp.requests_per_s - (200 / (2 * spanA) + 100 / spanB)) < 1e-6, `rate ${tp.requests_per_s}`);
    assert.ok(tp.requests_per_s > 199 && tp.requests_per_s < 202, 'two callers at 100/s each read ~200/s');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('busy time is the length of the union of [t0, t6] intervals', () => {
  const starts = Float64Array.from([0, 5, 20, 21, 40]);
  const ends = Float64Array.from([10, 8, 30, 25, 40]);
  // [0,10] ∪ [5,8] ∪ [20,30] ∪ [21,25] ∪ [40,40] = 10 + 10 + 0
  assert.equal(busyTime(starts, ends), 20);
  assert.equal(busyTime(new Float64Array(0), new Float64Array(0)), 0);
});

test('bootstrap: a real shift is significant with the observed difference inside its interval; the same data is not', () => {
  const random = seededRandom(3);
  const a = Float64Array.from({ length: 2000 }, () => 100 + random() * 50).sort();
  const shifted = Float64Array.from(a, (v) => v + 10).sort();
  const d = compareMedians(shifted, a, { resamples: 1000, confidence: 0.95, random: seededRandom(1) });
  assert.equal(d.difference, 10);
  assert.ok(d.ci_low <= 10 && 10 <= d.ci_high, `${d.ci_low} … ${d.ci_high}`);
  assert.equal(d.significant, true);
  const same = compareMedians(a, Float64Array.from(a), { resamples: 1000, confidence: 0.95, random: seededRandom(1) });
  assert.equal(same.difference, 0);
  assert.ok(same.ci_low < 0 && same.ci_high > 0);
  assert.equal(same.significant, false);
});
