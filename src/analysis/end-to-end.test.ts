/**
 * A real worker, two real gateways and the caller (`faasbench run` with a
 * small config, servers on 127.0.0.1 port 0), then the three outputs of the
 * analysis checked against each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../testing/processes.js';
import { fmtInt, fmtUs } from './compute/format.js';
import { LINK_PARTS, STAGES } from './compute/stages.js';
import { percentileOfSorted } from '../stats/percentiles.js';
import type { Summary } from './compute/summary-types.js';

const CONFIG = {
  frameworks: ['node', 'fastify'],
  endpoints: [{ path: '/empty', connections: [2, 4] }, { path: '/math?n=2000' }],
  connections: 4,
  requests: 120,
  warmup: '50ms',
  rounds: 1,
  timeout: '5s',
  pinning: 'none',
};

/** Parses the CSV (no quoted fields in it: ids, names and paths here have no commas). */
function parseCsv(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split('\n');
  const names = head!.split(',');
  return rows.map((row) => {
    const cells = row.split(',');
    assert.equal(cells.length, names.length, row);
    return Object.fromEntries(names.map((n, i) => [n, cells[i]!]));
  });
}

test('faasbench run --csv + analyze: report.html, summary.json and requests.csv come out and agree', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-e2e-analysis-'));
  try {
    const config = join(dir, 'experiment.json');
    await writeFile(config, JSON.stringify(CONFIG));
    const out = join(dir, 'run');
    const child = spawn(process.execPath, [CLI, 'run', '--config', config, '--out', out, '--csv', '--no-compress'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);

    const report = join(out, 'report');
    for (const f of ['report.html', 'summary.json', 'requests.csv']) assert.ok((await stat(join(report, f))).size > 0, f);
    const summary = JSON.parse(await readFile(join(report, 'summary.json'), 'utf8')) as Summary;
    const rows = parseCsv(await readFile(join(report, 'requests.csv'), 'utf8'));
    const html = await readFile(join(report, 'report.html'), 'utf8');

    // Counts: one CSV row per joined request; the measured ones are the figures' requests.
    assert.ok(summary.joins.measured > 0);
    assert.equal(rows.length, summary.joins.joined);
    const measured = rows.filter((r) => r.measured === 'true');
    assert.equal(measured.length, summary.joins.measured);
    assert.equal(rows.filter((r) => r.warmup === 'true').length, summary.joins.joined_warmup);
    assert.deepEqual(new Set(summary.groups.map((g) => g.framework)), new Set(CONFIG.frameworks));
    assert.deepEqual(new Set(summary.groups.map((g) => g.endpoint)), new Set(['empty', 'math']));

    // Every stage column is its formula over the stamp columns, exactly (BigInt).
    for (const r of measured) {
      const b = (k: string) => BigInt(r[k]!);
      assert.equal(b('roundtrip_ns'), b('t6') - b('t0'));
      assert.equal(b('gateway_in_ns'), b('t2') - b('t1'));
      assert.equal(b('rpc_link_ns'), b('t4') - b('t2') - (b('t3_send') - b('t3_recv')));
      assert.equal(b('function_ns'), b('t3_end') - b('t3_start'));
      assert.equal(b('respond_ns'), b('t5') - b('t4'));
      assert.equal(b('caller_link_ns'), b('t6') - b('t0') - (b('t5') - b('t1')));
      const parts = ['gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond', 'caller_link'];
      assert.equal(parts.reduce((acc, p) => acc + b(`${p}_ns`), 0n), b('roundtrip_ns'));
    }

    // Per group: the count and the medians recomputed from the CSV equal summary.json's, and the report shows them.
    for (const g of summary.groups) {
      const mine = measured.filter((r) => r.framework === g.framework && r.endpoint === g.endpoint);
      assert.equal(mine.length, g.measured, `${g.framework} ${g.endpoint}`);
      // Run without kernel stamps: the links' parts are absent.
      for (const stage of STAGES.filter((s) => s !== 'roundtrip_intended' && !(LINK_PARTS as readonly string[]).includes(s))) {
        const values = Float64Array.from(mine, (r) => Number(r[`${stage}_ns`])).sort();
        assert.equal(g.stages[stage]!.p50, percentileOfSorted(values, 50) * 1e-3, `${g.framework} ${g.endpoint} ${stage} median`);
      }
      assert.ok(html.includes(`<td class="num">${fmtUs(g.stages.roundtrip!.p50)}</td>`), `${g.framework} ${g.endpoint}: roundtrip median in the report`);
      assert.ok(html.includes(`<td class="num">${fmtInt(g.measured)}</td>`));
    }

    // Figure 3 (the sweep on /empty) and Figures 4–9, each an inline SVG; nothing loaded from elsewhere.
    assert.ok(summary.sweep && summary.sweep.some((p) => p.connections === 2) && summary.sweep.some((p) => p.connections === 4));
    assert.ok(summary.warnings.includes('On empty the caller ran 2 connection counts (2, 4); Figures 4–11 pool them, Figures 3 and 3b separate them.'));
    for (const n of [3, 4, 5, 6, 7, 8, 9]) assert.match(html, new RegExp(`<h2>Figure ${n}\\.`), `Figure ${n}`);
    assert.ok((html.match(/<svg/g) ?? []).length >= 7, 'seven charts');
    assert.doesNotMatch(html, /<script|<link|src="http|url\(http/i);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
