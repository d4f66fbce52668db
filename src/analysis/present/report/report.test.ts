import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyze } from '../../analyze.js';
import { DEFAULT_DURATIONS, DEFAULT_HOSTS, requestLines, writeRecordDir, type Hosts } from '../../../testing/analysis-records.js';

async function reportOf(specs: Parameters<typeof requestLines>[0][], runJson?: unknown, hosts: Hosts = DEFAULT_HOSTS) {
  const recs = specs.map((s) => requestLines(s, hosts));
  const dir = await writeRecordDir({ caller: recs.map((r) => r.caller), gateway: recs.map((r) => r.gateway), worker: recs.map((r) => r.worker) });
  try {
    if (runJson !== undefined) await writeFile(join(dir, 'run.json'), JSON.stringify(runJson));
    const { summary, files } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
    return { summary, html: await readFile(files.html, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('several connection counts but one per endpoint: no sweep, no Figure 3, no pooling warning', async () => {
  const specs = Array.from({ length: 40 }, (_, k) => ({
    id: `n${k}`, at: BigInt(k) * 2_000_000n, fn: k % 2 ? 'empty' : 'math', connections: k % 2 ? 150 : 20,
  }));
  const { summary, html } = await reportOf(specs);
  assert.ok(summary.sweep, 'the points are there');
  assert.doesNotMatch(html, /Figure 3\./);
  assert.ok(!summary.warnings.some((w) => /connection counts/.test(w)), summary.warnings.join('\n'));
});

test('one endpoint at two connection counts: Figures 3 and 3b and a warning that Figures 4–11 pool them', async () => {
  const specs = Array.from({ length: 40 }, (_, k) => ({ id: `s${k}`, at: BigInt(k) * 2_000_000n, fn: 'empty', connections: k < 20 ? 1 : 10 }));
  const { summary, html } = await reportOf(specs);
  assert.match(html, /Figure 3\./);
  assert.ok(summary.warnings.includes('On empty the caller ran 2 connection counts (1, 10); Figures 4–11 pool them, Figures 3 and 3b separate them.'));
});

test('names from the records are escaped in the report', async () => {
  const { html } = await reportOf([{ id: 'x', at: 0n, framework: '<img src=x onerror=alert(1)>' }]);
  assert.doesNotMatch(html, /<img src=x/);
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
});

test('a run whose caller was the bottleneck says so', async () => {
  const bound = ['node /empty c=150 round 1: event loop delay p99 40 ms', 'fastify /empty c=150 round 1: caller CPU 98%'];
  const { summary, html } = await reportOf([{ id: 'b', at: 0n }], { status: 'complete', callerBound: bound });
  const warning = summary.warnings.find((w) => w.startsWith('The caller was itself the bottleneck in 2 cell(s)'));
  assert.ok(warning, summary.warnings.join('\n'));
  assert.ok(warning.includes(bound[1]!));
  assert.match(html, /The caller was itself the bottleneck in 2 cell/);
  const clean = await reportOf([{ id: 'c', at: 0n }], { status: 'complete', callerBound: [] });
  assert.ok(!clean.summary.warnings.some((w) => /bottleneck/.test(w)));
});

test('late t5 stamps on one host: the answer carries a caveat about respond, and only then', async () => {
  const vm: Hosts = { ...DEFAULT_HOSTS, caller: 'vm', gateway: 'vm', worker: 'vm', callerBase: 7n, gatewayBase: 7n, workerBase: 7n };
  const lag = 30_000n;
  const specs = Array.from({ length: 10 }, (_, k) => ({
    id: `l${k}`, at: BigInt(k) * 2_000_000n,
    d: k < 5 ? { respond: DEFAULT_DURATIONS.respond + DEFAULT_DURATIONS.net_out + lag, net_out: -lag } : {},
  }));
  const late = await reportOf(specs, undefined, vm);
  assert.match(late.html, /Caveat: the gateway stamped t5 after the caller already had the whole response in 50\.0% of requests on vm → vm \(median 30\.0 µs, at most 30\.0 µs\)/);
  const clean = await reportOf(specs.slice(5), undefined, vm);
  assert.doesNotMatch(clean.html, /Caveat/);
});

test('open-loop cells: Figure 4, the spectrum and the comparisons use latency from the due time', async () => {
  // Each request was due 400 µs before it left: a sender that fell behind.
  const late = 400_000n;
  const specs = Array.from({ length: 40 }, (_, k) => ({ id: `o${k}`, at: BigInt(k) * 2_000_000n, framework: k % 2 ? 'koa' : 'node' }));
  const recs = specs.map((s) => requestLines(s));
  const caller = recs.map((r) => {
    const c = JSON.parse(r.caller) as Record<string, string>;
    return JSON.stringify({ ...c, t0_intended: String(BigInt(c.t0!) - late) });
  });
  const dir = await writeRecordDir({ caller, gateway: recs.map((r) => r.gateway), worker: recs.map((r) => r.worker) });
  try {
    const { summary, files } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
    const html = await readFile(files.html, 'utf8');
    for (const g of summary.groups) {
      assert.ok(g.open_loop);
      assert.equal(g.stages.latency!.p50, g.stages.roundtrip_intended!.p50);
      assert.equal(g.stages.latency!.p50, g.stages.roundtrip!.p50 + Number(late) / 1000);
    }
    for (const c of summary.cells) assert.equal(c.latency_percentiles_us.p50, summary.groups.find((g) => g.framework === c.framework)!.stages.latency!.p50);
    assert.equal(summary.comparisons[0]!.stage, 'latency');
    assert.match(html, /2 of 2 cells ran open loop\. Latency is from the due time \(t6 − t0_intended\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
