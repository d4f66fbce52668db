import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { analyze } from '../analyze.js';
import { seededRandom } from './random.js';
import { compareRounds, tQuantile } from './rounds.js';
import { requestLines, writeRecordDir } from '../../testing/analysis-records.js';

test('Student-t quantiles match the published tables', () => {
  // Two-sided 95% and 99%: t(0.975, df), t(0.995, df).
  const table: [number, number, number][] = [
    [0.95, 1, 12.706], [0.95, 2, 4.303], [0.95, 4, 2.776], [0.95, 9, 2.262], [0.95, 29, 2.045], [0.99, 10, 3.169], [0.9, 5, 2.015],
  ];
  for (const [confidence, df, want] of table) assert.ok(Math.abs(tQuantile(confidence, df) - want) < 0.001, `${confidence} df=${df}: ${tQuantile(confidence, df)}`);
});

test('a verdict needs three rounds; a consistent shift is real, a tiny one negligible', () => {
  const rounds = (values: number[]) => new Map(values.map((v, k) => [k + 1, v]));
  const base = rounds([100, 104, 98, 101, 99]);
  assert.equal(compareRounds(rounds([150, 155]), rounds([100, 104]), 100, 0.95).verdict, 'cannot be judged');
  const slower = compareRounds(rounds([120, 125, 117, 122, 118]), base, 100, 0.95);
  assert.equal(slower.verdict, 'slower');
  assert.equal(slower.rounds, 5);
  assert.ok(slower.ci_low! > 0 && slower.ci_high! > slower.ci_low!);
  // +0.5 in every round: certain, but half a percent of the median.
  assert.equal(compareRounds(rounds([100.5, 104.5, 98.5, 101.5, 99.5]), base, 100, 0.95).verdict, 'negligible');
  // Only rounds both ran are paired.
  assert.equal(compareRounds(rounds([120, 125, 117]), rounds([100, 104, 98, 101, 99].slice(0, 2)), 100, 0.95).rounds, 2);
});

/**
 * Two frameworks, the same distribution: each cell-round draws its own level
 * (the machine's mood while it ran) and each request its own noise around it.
 * Within a round thousands of requests pin a median down tightly, so a
 * per-request interval sees the levels' difference as real; the rounds do not.
 */
async function sameDistribution(rounds: number, seed: number) {
  const random = seededRandom(seed);
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  let at = 0n;
  for (let round = 1; round <= rounds; round++) {
    for (const framework of ['node', 'express']) {
      const level = 40_000 + Math.floor(random() * 20_000);
      const prefix = `c${framework}${round}-`;
      for (let k = 0; k < 600; k++) {
        const respond = BigInt(level + Math.floor(random() * 4_000));
        const r = requestLines({ id: `${prefix}${k}`, at, framework, d: { respond } });
        lines.caller.push(r.caller);
        lines.gateway.push(r.gateway);
        lines.worker.push(r.worker);
        at += 2_000_000n;
      }
    }
  }
  const dir = await writeRecordDir(lines);
  try {
    const { summary, files } = await analyze({ inputs: [dir], csv: false, resamples: 500 });
    return { summary, html: await readFile(files.html, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('two frameworks drawn from one distribution are not called different, though a per-request interval would', async () => {
  const { summary } = await sameDistribution(5, 7);
  const respond = summary.comparisons.find((c) => c.stage === 'respond')!;
  assert.equal(respond.rounds, 5);
  assert.equal(respond.interval_from, 'rounds');
  assert.equal(respond.significant, false, JSON.stringify(respond));
  assert.equal(respond.verdict, 'no difference found');
  for (const c of summary.comparisons) assert.ok(!c.significant, `${c.stage}: ${c.verdict}`);
  // The old method on the same data: requests as independent samples, an interval that excludes 0.
  assert.ok(respond.within_run.ci_low > 0 || respond.within_run.ci_high < 0, JSON.stringify(respond.within_run));
  const g = summary.groups.find((x) => x.framework === 'express')!;
  assert.equal(g.rounds, 5);
});

test('with two rounds, a comparison cannot be judged, and the report says so', async () => {
  const { summary, html } = await sameDistribution(2, 7);
  assert.ok(summary.comparisons.length > 0);
  for (const c of summary.comparisons) {
    assert.equal(c.verdict, 'cannot be judged');
    assert.equal(c.ci_low, null);
    assert.equal(c.rounds, 2);
  }
  assert.match(html, /<strong>No verdict:<\/strong> 2 rounds behind each comparison, and a difference between frameworks needs at least 3 to be judged/);
});
