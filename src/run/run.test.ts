/**
 * `faasbench run` as a user runs it: the real binary, real servers on free
 * loopback ports, real records, and the report at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../testing/processes.js';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { ENDPOINT_LIST } from '../contract/endpoints.js';
import type { Summary } from '../analysis/compute/summary-types.js';
import { schemaValidator } from '../schemas.js';
import type { RunMetadata } from './metadata.js';
import { PARQUET_COLUMNS } from '../analysis/present/parquet.js';

/** Runs `faasbench run ...`; `interruptWhen` sends SIGINT (a user's Ctrl-C) once stderr matches it. */
function faasbenchRun(args: string[], interruptWhen?: RegExp): Promise<CliResult> {
  return runCli(['run', ...args], { signalWhen: interruptWhen, signal: 'SIGINT', timeoutMs: 120_000, env: { ...process.env, FAASBENCH_LOG_LEVEL: 'warn' } });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

test('run --quick drives every framework × endpoint and writes a report of joined records', { timeout: 150_000 }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'faasbench-run-')), 'quick');
  const r = await faasbenchRun(['--quick', '--out', out]);
  assert.equal(r.code, 0, r.stderr);

  const meta = readJson<RunMetadata>(join(out, 'run.json'));
  assert.equal(meta.status, 'complete');
  assert.equal(meta.cells.done, meta.cells.planned);
  // Every endpoint of the seed once per framework (not the fault or payload probes), /empty at two connection counts (a short sweep).
  assert.equal(meta.cells.planned, FRAMEWORKS.length * (ENDPOINT_LIST.filter((e) => e.path !== '/fault' && e.path !== '/payload').length + 1));
  assert.equal(meta.node, process.version);
  assert.ok(meta.host.cores >= 1 && meta.pinning !== null && meta.pinning.note.length > 0);
  // Every server it started is gone.
  assert.equal(meta.processes.length, 1 + FRAMEWORKS.length);
  for (const p of meta.processes) assert.equal(alive(p.pid), false, `pid ${p.pid} (${p.args}) still running`);
  // Every role's samples count the host's cores, pinned or not: the load average they are read against is the host's.
  // Gzipped by default.
  for (const file of ['caller.ndjson.gz', 'worker.ndjson.gz', ...FRAMEWORKS.map((f) => `gateway-${f}.ndjson.gz`)]) {
    const samples = gunzipSync(readFileSync(join(out, file))).toString('utf8').split('\n').filter((l) => l.includes('"type":"sample"')).map((l) => JSON.parse(l) as { host_cores: number });
    assert.ok(samples.length > 0, `${file}: no samples`);
    for (const s of samples) assert.equal(s.host_cores, meta.host.cores, `${file}: host_cores`);
  }

  const summary = readJson<Summary>(join(out, 'report', 'summary.json'));
  assert.equal(schemaValidator('summary')(summary), null, 'summary.json meets schemas/summary.schema.json');
  for (const framework of FRAMEWORKS) {
    for (const endpoint of ['empty', 'sleep', 'math', 'image']) {
      const g = summary.groups.find((x) => x.framework === framework && x.endpoint === endpoint);
      assert.ok(g, `no figures for ${framework} ${endpoint}`);
      assert.ok(g.measured > 0, `${framework} ${endpoint}: no measured requests`);
      assert.ok(g.stages.roundtrip!.p50 > 0);
    }
  }
  // Every cell has each role's load beside its stages, and the sweep reads at both counts.
  assert.equal(summary.cells.length, meta.cells.planned);
  for (const c of summary.cells) {
    for (const role of ['caller', 'gateway', 'worker'] as const) assert.ok(c.load[role], `${c.framework} ${c.endpoint} c=${c.connections}: no ${role} load`);
  }
  assert.deepEqual([...new Set(summary.cells.filter((c) => c.endpoint === 'empty').map((c) => c.connections))].sort((a, b) => a - b), [1, 8]);
  assert.equal(summary.answer.seed?.endpoint, 'empty');
  const html = readFileSync(join(out, 'report', 'report.html'), 'utf8');
  for (const heading of ['Figure 3b. Where the time goes as load grows', 'Figure 7. Endpoint handler', 'Figure 8. Delta', 'How busy was each process?']) {
    assert.ok(html.includes(heading), heading);
  }
  assert.match(html, /The original report&#39;s conclusion, a bottleneck between receiving a function result and sending it back, (holds|does not hold) here/);
  assert.equal(summary.joins.caller_without_gateway, 0);
  assert.equal(summary.joins.gateway_without_caller, 0);
  assert.equal(summary.joins.gateway_without_worker, 0);
  assert.equal(summary.joins.worker_without_gateway, 0);
  assert.ok(existsSync(join(out, 'report', 'report.html')));
  assert.ok(existsSync(join(out, 'report', 'requests.parquet')) && !existsSync(join(out, 'report', 'requests.csv')), 'requests.parquet, no CSV unless asked');
  checkParquetWithPython(out);
  // The summary table names every framework, and the report path is printed.
  for (const framework of FRAMEWORKS) assert.match(r.stdout, new RegExp(`^${framework}\\s+empty\\s+\\d+`, 'm'));
  assert.match(r.stdout, /report:\s+\S+report\.html/);
  assert.match(r.stderr, /\[ ?1\/25\] round 1\/1/);
  // Before it starts, it says what it writes where, and how much.
  assert.match(r.stderr, /writes to \S+quick: run\.json, caller\.ndjson\.gz, worker\.ndjson\.gz, gateway-<framework>\.ndjson\.gz, then report\/ \(report\.html, summary\.json, requests\.parquet\)/);
  assert.match(r.stderr, /expected size: about [\d.]+ MB/);
});

test('Ctrl-C stops every process and leaves analysable records, plain NDJSON with --no-compress', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-run-'));
  const config = join(dir, 'exp.json');
  // Long enough that the interrupt lands mid-run.
  writeFileSync(config, JSON.stringify({ frameworks: ['node', 'hono'], endpoints: [{ path: '/empty' }], connections: 4, duration: '3s', warmup: '100ms', rounds: 3 }));
  const out = join(dir, 'out');
  const r = await faasbenchRun(['--config', config, '--out', out, '--no-compress'], /\[2\/6\]/);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /stopping/);

  const meta = readJson<RunMetadata>(join(out, 'run.json'));
  assert.equal(meta.status, 'interrupted');
  assert.ok(meta.cells.done >= 2 && meta.cells.done < 6, `cells done: ${meta.cells.done}`);
  for (const p of meta.processes) assert.equal(alive(p.pid), false, `pid ${p.pid} (${p.args}) still running`);
  for (const role of ['caller', 'worker', 'gateway-node', 'gateway-hono']) {
    assert.ok(existsSync(join(out, `${role}.ndjson`)) && !existsSync(join(out, `${role}.ndjson.gz`)), `${role} records plain`);
  }

  const analysis = await runCli(['analyze', out, '--csv'], { timeoutMs: 120_000 });
  assert.equal(analysis.code, 0, analysis.stderr);
  const summary = readJson<Summary>(join(out, 'report', 'summary.json'));
  assert.deepEqual(summary.groups.map((g) => g.framework).sort(), ['hono', 'node']);
  // Requests cut off by the stop may lack a record on one side, but they are counted, not lost.
  assert.ok(summary.joins.joined > 0);
  assert.ok(existsSync(join(out, 'report', 'requests.csv')) && existsSync(join(out, 'report', 'requests.parquet')), '--csv adds requests.csv');
  assert.equal(summary.joins.ids, summary.joins.joined + summary.joins.caller_without_gateway + summary.joins.gateway_without_caller + summary.joins.worker_only);
});

test('a bad config is refused with the field named, exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-run-'));
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, 'frameworks: [node, flask]\n');
  const r = await faasbenchRun(['--config', config, '--out', join(dir, 'out')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^faasbench: \S+bad\.yaml: frameworks\[1\] must be one of node, fastify, express, koa, hono, node\+gzip, .*, tcp, direct, got "flask"$/m);
  assert.equal(existsSync(join(dir, 'out')), false, 'nothing was started');
});

/**
 * requests.parquet read back by pyarrow (scripts/check-parquet.py) and checked
 * against the records. .ci/run installs pyarrow; elsewhere, without it, skipped with a note.
 */
function checkParquetWithPython(out: string): void {
  const probe = spawnSync('python3', ['-c', 'import pyarrow'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    assert.notEqual(process.env['CI'], 'true', 'CI must have python3 with pyarrow (.ci/run installs it)');
    process.stderr.write('# requests.parquet not read back: no python3 with pyarrow here\n');
    return;
  }
  const script = new URL('../../../scripts/check-parquet.py', import.meta.url).pathname;
  const r = spawnSync('python3', [script, out, PARQUET_COLUMNS.map(([name]) => name).join(',')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  const counts = JSON.parse(r.stdout) as { rows: number; checked: number; callers: number; measured: number };
  assert.ok(counts.rows > 0 && counts.checked === counts.rows, r.stdout);
  // Every caller record joined in the quick run (no caller_without_gateway), so every one is a row.
  assert.equal(counts.rows, counts.callers, r.stdout);
  assert.ok(counts.measured > 0 && counts.measured < counts.rows, r.stdout);
}
