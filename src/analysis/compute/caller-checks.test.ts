/** run.json's per-cell arrival checks and probes reach summary.json, its warnings and the report. */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { requestLines, writeRecordDir } from '../../testing/analysis-records.js';
import { schemaValidator } from '../../schemas.js';
import { analyze } from '../analyze.js';
import { callerChecksOf } from './caller-checks.js';

const iv = (low: number, high: number) => ({ low, high });

/** As src/run/metadata.ts callerCheckOf writes them: one cell that fell short, one whose probe differs. */
const callerChecks = [
  {
    framework: 'node', path: '/empty', connections: 4, round: 1,
    latencyUs: { p50: 900, p99: 4000 }, latencyCiUs: { p50: iv(880, 920), p99: iv(3500, 4600) },
    arrivals: {
      arrival: 'poisson', seed: 7, planned: 1000, issued: 850, plannedRate: 500, issuedRate: 425, shortfall: 0.15, rate: 'warn',
      poisson: { gaps: 849, tested: 300, floorMs: 6, a2: 0.61, rejectedAt: null, passed: true }, verdict: 'warn', stoppedEarly: false,
    },
    probe: null,
  },
  {
    framework: 'koa', path: '/empty', connections: 64, round: 1,
    latencyUs: { p50: 5000, p99: 9000 }, latencyCiUs: { p50: iv(4900, 5100), p99: null },
    arrivals: null,
    probe: {
      url: 'http://127.0.0.1:1/empty', rate: 20, connections: 2, requests: 60, responses: 60, errorCount: 0,
      latencyUs: { count: 60, min: 300, p50: 400, p90: 500, p99: 700, p99_9: 700, max: 700, mean: 420 },
      latencyCiUs: { p50: iv(380, 430), p90: null, p99: null, p99_9: null },
      agreement: { p50: 'differ', p99: 'cannot tell', summary: "they differ: the load's p50 is 12.50× the probe's" },
    },
  },
];

test('callerChecks of run.json become summary.json caller_checks (schema-valid), warnings and a report section', async () => {
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  for (let k = 0; k < 200; k++) {
    const r = requestLines({ id: `q${k}`, at: BigInt(k) * 500_000n, framework: k % 2 ? 'koa' : 'node', connections: 4, d: { respond: 10_000n } });
    for (const role of ['caller', 'gateway', 'worker'] as const) lines[role].push(r[role]);
  }
  const dir = await writeRecordDir(lines);
  try {
    await writeFile(join(dir, 'run.json'), JSON.stringify({ status: 'complete', callerBound: [], callerChecks }));
    const { summary, files } = await analyze({ inputs: [dir], csv: false, resamples: 100 });
    assert.equal(summary.caller_checks.length, 2);
    const [short, probed] = summary.caller_checks;
    assert.deepEqual(
      { arrival: short!.arrivals!.arrival, planned: short!.arrivals!.planned, issued: short!.arrivals!.issued, verdict: short!.arrivals!.verdict, passed: short!.arrivals!.poisson!.passed },
      { arrival: 'poisson', planned: 1000, issued: 850, verdict: 'warn', passed: true },
    );
    assert.equal(short!.probe, null);
    assert.equal(probed!.arrivals, null);
    assert.deepEqual(probed!.probe!.latency_us, { p50: 400, p99: 700 });
    assert.equal(probed!.probe!.agreement.p50, 'differ');
    assert.equal(schemaValidator('summary')(JSON.parse(JSON.stringify(summary))), null);
    assert.ok(summary.warnings.some((w) => /did not send what it promised in 1 cell\(s\).*node \/empty c=4 round 1: 850 of 1000 due sent \(warn\)/.test(w)), summary.warnings.join('\n'));
    assert.ok(summary.warnings.some((w) => /probe stream disagrees with the load in 1 cell\(s\): koa \/empty c=64/.test(w)));
    const html = await readFile(files.html, 'utf8');
    const section = html.slice(html.indexOf('<h2>Did the caller load as planned?</h2>'));
    assert.ok(section.length < html.length, 'the section is in the report');
    assert.match(section, /In 1 of 1 open-loop cells the caller did not send what it promised/);
    assert.match(section, /<td class="num">15\.0%<\/td>/);
    assert.match(section, /pass: A² 0\.610 on 300 gaps/);
    assert.match(section, /In 1 of 1 cells the probe's latency differs from the load's/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a run.json without callerChecks, or with entries of another shape, gives none', () => {
  assert.deepEqual(callerChecksOf([{ path: 'a/run.json', meta: { status: 'complete' } }, { path: 'b/run.json', meta: null }]), []);
  assert.deepEqual(callerChecksOf([{ path: 'c/run.json', meta: { callerChecks: [42, { framework: 1 }] } }]), []);
});
