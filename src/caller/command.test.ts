import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readRecords, startHttpServer } from '../testing/http-servers.js';

// The real binary, as a user runs it.
const cliPath = fileURLToPath(new URL('../cli.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, 'caller', ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill(), 20_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

test('the CLI prints a summary table and writes one record per request', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'cli.ndjson');
  try {
    const r = await cli(['--url', `${server.url}/empty`, '--connections', '2', '--requests', '25', '--warmup', '0s', '--out', out, '--label', 'cli']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /throughput\s+[\d.]+ req\/s/);
    assert.match(r.stdout, /latency \(µs, from t0\)\s+min\s+p50\s+p90\s+p99\s+p99\.9\s+max\s+mean/);
    assert.match(r.stdout, /25 measured/);
    const records = readRecords(out);
    assert.equal(records.length, 25);
    assert.ok(records.every((x) => x.label === 'cli'));
  } finally {
    await server.close();
  }
});

/** Keys that are not snake_case, anywhere but in the tallies keyed by status or error class. */
function camelKeys(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [
    ...(/[A-Z]/.test(k) && !/\.(status_counts|errors)$/.test(path) ? [`${path}.${k}`] : []),
    ...camelKeys(v, `${path}.${k}`),
  ]);
}

test('--json prints the result as JSON in summary.json\'s vocabulary; a connection list prints a sweep', { timeout: 60_000 }, async () => {
  const server = await startHttpServer();
  try {
    const one = await cli(['--url', server.url, '--connections', '1', '--requests', '5', '--warmup', '0s', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const result = JSON.parse(one.stdout);
    assert.equal(result.requests, 5);
    // The same names as summary.json's stage figures and throughput.
    assert.deepEqual(Object.keys(result.latency_us).sort(), ['count', 'max', 'mean', 'min', 'p50', 'p90', 'p99', 'p99_9']);
    assert.equal(typeof result.requests_per_s, 'number');
    assert.equal(typeof result.bottleneck.cpu_percent, 'number');
    assert.deepEqual(camelKeys(result), []);
    const sweepJson = await cli(['--url', server.url, '--connections', '1,2', '--requests', '5', '--warmup', '0s', '--json']);
    const rows = JSON.parse(sweepJson.stdout) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(rows[0]!), ['connections', 'requests_per_s', 'p50_us', 'p99_us', 'requests', 'errors', 'caller_bound', 'result']);
    assert.deepEqual(camelKeys(rows), []);
    const sweep = await cli(['--url', server.url, '--connections', '1,2', '--requests', '5', '--warmup', '0s']);
    assert.equal(sweep.code, 0, sweep.stderr);
    assert.match(sweep.stdout, /^connections\s+throughput/);
    assert.equal(sweep.stdout.trim().split('\n').length, 3);
  } finally {
    await server.close();
  }
});

test('bad input: exit code 2 and a message, not a stack trace', { timeout: 60_000 }, async () => {
  for (const args of [
    ['--url', 'https://127.0.0.1:1/'],
    ['--url', 'http://127.0.0.1:1/', '--connections', '0'],
    ['--url', 'http://127.0.0.1:1/', '--duration', 'soon'],
    ['--url', 'http://127.0.0.1:1/', '--duration', '1s', '--requests', '3'],
    ['--url', 'http://127.0.0.1:1/', '--rate', '-1'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^faasbench: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
