/**
 * The caller against a server that is not faasbench (plain node:http on
 * 127.0.0.1 port 0), then `faasbench analyze` on its records alone: the real
 * binary both times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/processes.js';
import { startHttpServer } from '../testing/http-servers.js';
import type { Summary } from './compute/summary-types.js';

test('analyze on caller records from a plain node:http server: latency, failures, time series and a full CSV', async () => {
  // Every 10th request answered 500: failures the report must count, not drop.
  const server = await startHttpServer((_req, res, index) => {
    res.statusCode = index % 10 === 9 ? 500 : 200;
    res.end('hi');
  });
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-caller-only-'));
  try {
    const records = join(dir, 'caller.ndjson');
    const call = await runCli(['caller', '--url', `${server.url}/hello?x=1`, '--connections', '2', '--requests', '400', '--warmup', '100ms', '--out', records], { timeoutMs: 120_000 });
    assert.equal(call.code, 0, call.stderr);
    const analysis = await runCli(['analyze', dir, '--csv'], { timeoutMs: 120_000 });
    assert.equal(analysis.code, 0, analysis.stderr);

    const lines = (await readFile(records, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((r) => r.type === undefined);
    const measured = requests.filter((r) => r.warmup === false);
    const ok = measured.filter((r) => r.status === 200).length;
    const failed = measured.length - ok;
    assert.equal(measured.length, 400);
    assert.ok(failed > 0 && ok > 0);
    assert.equal(lines.filter((r) => r.type === 'clock').length, 1, 'one clock anchor per caller run');

    const summary = JSON.parse(await readFile(join(dir, 'report', 'summary.json'), 'utf8')) as Summary;
    assert.equal(summary.groups.length, 1);
    const g = summary.groups[0]!;
    assert.deepEqual([g.framework, g.endpoint, g.caller_only], ['server', '/hello?x=1', true]);
    assert.equal(g.measured, ok);
    assert.deepEqual(g.excluded, { 'status 500': failed });
    assert.ok(g.stages.latency!.p50 > 0 && g.stages.roundtrip!.count === ok);
    assert.equal(g.stages.function, undefined, 'no stage inside the server');
    assert.ok(g.throughput.requests_per_s > 0);
    assert.equal(summary.joins.caller_only, requests.length);
    assert.equal(summary.joins.caller_without_gateway, 0);
    assert.equal(summary.answer.seed, null);

    // The time series adds up to the same requests, per second.
    const cells = summary.timeline!.cells;
    assert.equal(cells.length, 1);
    assert.equal(cells[0]!.points.reduce((n, p) => n + p.responses, 0), ok);
    assert.equal(cells[0]!.points.reduce((n, p) => n + p.errors, 0), failed);
    assert.ok(summary.timeline!.origin.wall_ms! > Date.parse('2020-01-01'), 'anchored on the wall clock');
    assert.ok(summary.timeline!.utilisation.some((u) => u.role === 'caller'), "the caller's own samples over time");
    const spectrum = summary.cells[0]!.latency_percentiles_us;
    assert.ok(spectrum.p50 <= spectrum.p99 && spectrum.p99 <= spectrum.p99_99);

    // One CSV row per caller record, warm-up included, each with its wall-clock time, round and cell.
    const [head, ...rows] = (await readFile(join(dir, 'report', 'requests.csv'), 'utf8')).trimEnd().split('\n');
    const names = head!.split(',');
    const col = (row: string, name: string) => row.split(',')[names.indexOf(name)]!;
    assert.equal(rows.length, requests.length);
    assert.equal(rows.filter((r) => col(r, 'measured') === 'true').length, ok);
    const start = Date.now() - 10 * 60_000;
    for (const r of rows) {
      assert.ok(Number(col(r, 'time_ms')) > start && Number(col(r, 'time_ms')) <= Date.now(), r);
      assert.equal(col(r, 'round'), '1');
      assert.equal(col(r, 'cell'), 'server /hello?x=1 2');
      assert.equal(BigInt(col(r, 'latency_ns')), BigInt(col(r, 't6')) - BigInt(col(r, 't0')));
    }

    const html = await readFile(join(dir, 'report', 'report.html'), 'utf8');
    assert.match(html, /<h2>What the caller saw<\/h2>/);
    assert.ok(html.includes(`<strong>${failed} failed</strong>`), 'the failures beside the latency');
    for (const heading of ['Over time: responses, latency and failures per second', 'Figure 4. Latency', 'Figure 4b. Latency by percentile']) {
      assert.ok(html.includes(`<h2>${heading}</h2>`), heading);
    }
    assert.doesNotMatch(html, /Figure 5\./, 'no stage figures without stages');
    assert.doesNotMatch(analysis.stdout, /No request made it into the figures/);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
