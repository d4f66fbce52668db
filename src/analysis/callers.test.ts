/**
 * Several callers merged: analyze on the records of two callers gives the
 * figures of the union of their requests (throughput summed, percentiles over
 * every request), keeps each caller's own figures, and warns when one started
 * later than the others by more than the stated tolerance.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_HOSTS, HOURS, requestLines, trueStamps, writeRecordDir, type Hosts, type RequestSpec } from '../testing/analysis-records.js';
import { schemaValidator } from '../schemas.js';
import { analyze } from './analyze.js';
import { percentileOfSorted } from '../stats/percentiles.js';

const MS = 1_000_000n;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const hostsOf = (caller: string, callerBase: bigint): Hosts => ({ ...DEFAULT_HOSTS, caller, callerBase });
const A = hostsOf('caller-a', 7n * HOURS + 11n);
const B = hostsOf('caller-b', 2n ** 59n + 3n);

/** One caller's closed loop: `n` requests back to back from true time `start`, each function taking its own time. */
function callerRun(prefix: string, start: bigint, n: number, fnNs: (k: number) => bigint): RequestSpec[] {
  const specs: RequestSpec[] = [];
  let at = start;
  for (let k = 0; k < n; k++) {
    const d = { function: fnNs(k) };
    specs.push({ id: `${prefix}-${k}`, at, d });
    const s = trueStamps(at, d);
    at = s.t6 + 1000n;
  }
  return specs;
}

async function write(runs: [RequestSpec[], Hosts][]): Promise<string> {
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  for (const [specs, hosts] of runs) {
    for (const spec of specs) {
      const l = requestLines(spec, hosts);
      lines.caller.push(l.caller);
      lines.gateway.push(l.gateway);
      lines.worker.push(l.worker);
    }
  }
  const dir = await writeRecordDir(lines);
  dirs.push(dir);
  return dir;
}

async function figures(...inputs: string[]) {
  const out = await mkdtemp(join(tmpdir(), 'fb-callers-out-'));
  dirs.push(out);
  const { summary } = await analyze({ inputs, out, csv: false, resamples: 100 });
  return summary;
}

const runA = callerRun('a', 0n, 300, (k) => 200_000n + BigInt((k * 7919) % 900) * 1000n);
const runB = callerRun('b', 20n * MS, 200, (k) => 500_000n + BigInt((k * 104729) % 1300) * 1000n);

test('two callers merge: throughput summed, percentiles over the union, each caller kept', async () => {
  const [dirA, dirB] = [await write([[runA, A]]), await write([[runB, B]])];
  const [a, b, both] = [await figures(dirA), await figures(dirB), await figures(dirA, dirB)];
  const [ga, gb, g] = [a.groups[0]!, b.groups[0]!, both.groups[0]!];
  assert.equal(both.groups.length, 1);
  assert.equal(g.measured, 500);
  assert.equal(g.measured, ga.measured + gb.measured);
  assert.ok(Math.abs(g.throughput.requests_per_s - (ga.throughput.requests_per_s + gb.throughput.requests_per_s)) < 1e-9 * g.throughput.requests_per_s);

  // Percentiles of the union, computed here from the true durations.
  const roundtrips = Float64Array.from([...runA, ...runB].map((s) => {
    const t = trueStamps(s.at, s.d);
    return Number(t.t6 - t.t0) / 1000;
  })).sort();
  for (const p of [50, 90, 99] as const) assert.equal(g.stages.roundtrip![`p${p}`], percentileOfSorted(roundtrips, p), `p${p}`);

  // Each caller's figures, as when analysed alone.
  assert.deepEqual(both.scale.callers.map((c) => c.host), ['caller-a', 'caller-b']);
  for (const [c, alone] of [[both.scale.callers[0]!, ga], [both.scale.callers[1]!, gb]] as const) {
    assert.equal(c.measured, alone.measured);
    assert.equal(c.requests_per_s, alone.throughput.requests_per_s);
    assert.equal(c.p50_us, alone.stages.roundtrip!.p50);
    assert.equal(c.p99_us, alone.stages.roundtrip!.p99);
  }
  // 20 ms apart in true time, found through the clock offsets though the clocks are hours apart.
  assert.ok(Math.abs(both.scale.callers[1]!.start_lag_ms! - 20) < 0.1, String(both.scale.callers[1]!.start_lag_ms));
  assert.equal(both.scale.callers[0]!.start_lag_ms, 0);
  assert.deepEqual(both.warnings.filter((w) => /started/.test(w)), []);
  // One caller alone: nothing to merge.
  assert.deepEqual(a.scale.callers, []);
  // The scale figures as the published summary schema describes them.
  assert.equal(schemaValidator('summary')(JSON.parse(JSON.stringify(both))), null);
  const broken = JSON.parse(JSON.stringify(both)) as { scale: { callers: { start_lag_ms: unknown }[] } };
  broken.scale.callers[1]!.start_lag_ms = 'late';
  assert.match(schemaValidator('summary')(broken) ?? '', /^scale\.callers\[1\]\.start_lag_ms must be /);
});

test('a caller that started later than the tolerance is warned about', async () => {
  const late = callerRun('late', 400n * MS, 200, () => 300_000n);
  const summary = await figures(await write([[runA, A], [late, B]]));
  const lag = summary.scale.callers.find((c) => c.host === 'caller-b')!.start_lag_ms!;
  assert.ok(Math.abs(lag - 400) < 0.1, String(lag));
  const warnings = summary.warnings.filter((w) => /started/.test(w));
  assert.equal(warnings.length, 1, summary.warnings.join('\n'));
  assert.match(warnings[0]!, /caller-b started 400\.0 ms after .*tolerance 100 ms/);
});
