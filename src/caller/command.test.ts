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

test('--json prints the result as JSON; a connection list prints a sweep', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  try {
    const one = await cli(['--url', server.url, '--connections', '1', '--requests', '5', '--warmup', '0s', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const result = JSON.parse(one.stdout);
    assert.equal(result.requests, 5);
    assert.equal(typeof result.latencyUs.p50, 'number');
    assert.equal(typeof result.bottleneck.flagged, 'boolean');
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
