/**
 * Failures and thresholds through the real binary, as a user of k6 or vegeta
 * would check them: servers answering 500s, answering slowly, resetting
 * connections, and answering well.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../testing/processes.js';
import { readRecords, startHttpServer } from '../testing/http-servers.js';

const caller = (url: string, ...args: string[]) => runCli(['caller', '--url', url, '--warmup', '0s', ...args]);
const INTERVAL_LINE = /^\s+\d+\/\d+ s {2}(warmup|measure|drain)\s+(\d+) req\/s {2}p50 ([\d.]+) ms {2}p99 ([\d.]+) ms {2}errors (\d+) {2}in flight (\d+)$/gm;

test('a server answering 500: counted as status_5xx failures; a run of nothing but failures exits 1, 99 when a threshold failed too', { timeout: 60_000 }, async () => {
  const server = await startHttpServer((_req, res) => {
    res.statusCode = 500;
    res.end('broken');
  });
  const out = join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'caller.ndjson');
  try {
    const plain = await caller(server.url, '--connections', '2', '--requests', '100', '--out', out);
    assert.equal(plain.code, 1, plain.stderr);
    assert.equal(plain.stderr, 'faasbench caller: every measured request failed (status_5xx: 100)\n');
    assert.match(plain.stdout, /100 answered, 100 failed \(100%\)/);
    assert.match(plain.stdout, /^errors\s+status_5xx: 100$/m);
    assert.match(plain.stdout, /^status\s+500: 100$/m);
    assert.ok(readRecords(out).every((r) => r.status === 500 && r.error === null), 'records keep the status');

    const json = await caller(server.url, '--connections', '2', '--requests', '100', '--json', '--max-error-rate', '0.01');
    assert.equal(json.code, 99, json.stderr);
    const result = JSON.parse(json.stdout);
    assert.deepEqual(result.errors, { status_5xx: 100 });
    assert.equal(result.error_rate, 1);
    assert.deepEqual(result.thresholds, [{ name: 'error_rate<=0.01', metric: 'error_rate', op: '<=', limit: 0.01, value: 1, unit: 'fraction', ok: false }]);
    assert.match(json.stderr, /^faasbench caller: threshold failed: error_rate<=0.01: measured 100%, limit <= 1%$/m);

    const sweep = await caller(server.url, '--connections', '1,2', '--requests', '5', '--max-error-rate', '1%');
    assert.equal(sweep.code, 99, sweep.stderr);
    assert.match(sweep.stdout, /^connections .* thresholds$/m);
    assert.match(sweep.stderr, /^faasbench caller: 1 connections: threshold failed: error_rate<=1%/m);
    assert.match(sweep.stderr, /^faasbench caller: 2 connections: threshold failed: error_rate<=1%/m);
  } finally {
    await server.close();
  }
});

test('a slow server: --max-p99 and a p50 expression fail with the measured value and the limit', { timeout: 60_000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('late'), 50));
  try {
    const r = await caller(server.url, '--connections', '2', '--requests', '10', '--max-p99', '5ms', '--threshold', 'p50 < 4ms', '--max-error-rate', '0');
    assert.equal(r.code, 99, r.stderr);
    const failed = [...r.stderr.matchAll(/^faasbench caller: threshold failed: (\S+): measured ([\d.]+) ms, limit (<=?) (\d+) ms$/gm)];
    assert.deepEqual(failed.map((m) => [m[1], m[3], m[4]]), [['p99<=5ms', '<=', '5'], ['p50<4ms', '<', '4']]);
    for (const m of failed) assert.ok(Number(m[2]) >= 50, `measured ${m[2]} ms from a server that waits 50 ms`);
    // The summary lists every threshold, the --max-* flags first, then the expressions.
    assert.match(r.stdout, /^thresholds {2}ok {6}error_rate<=0: measured 0%, limit <= 0%\n {12}FAILED {2}p99<=5ms: measured .*\n {12}FAILED {2}p50<4ms: measured /m);
  } finally {
    await server.close();
  }
});

test('connection resets count toward the error rate under their socket error class', { timeout: 60_000 }, async () => {
  // Every other request is reset; the rest answered.
  const server = await startHttpServer((req, res, i) => (i % 2 === 0 ? req.socket.destroy() : res.end('ok')));
  try {
    const r = await caller(server.url, '--connections', '1', '--requests', '20', '--json', '--max-error-rate', '0.1');
    assert.equal(r.code, 99, r.stderr);
    const result = JSON.parse(r.stdout);
    const classes = Object.keys(result.errors);
    assert.ok(classes.length > 0 && classes.every((c) => c === 'econnreset' || c === 'socket_closed'), classes.join());
    assert.ok(result.error_count > 2, `${result.error_count} failed`);
    assert.equal(result.error_count + (result.status_counts['200'] ?? 0), 20);
    assert.equal(result.thresholds[0].value, result.error_count / 20);
    assert.match(r.stderr, /threshold failed: error_rate<=0.1: measured [\d.]+%, limit <= 10%/);
  } finally {
    await server.close();
  }
});

test('a healthy server: thresholds pass, exit 0, and no interval lines unless asked for', { timeout: 60_000 }, async () => {
  const server = await startHttpServer();
  try {
    const r = await caller(server.url, '--connections', '2', '--requests', '50', '--max-error-rate', '0', '--max-p99', '10s', '--max-p999', '10s', '--threshold', 'mean<10s');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /50 answered, 0 failed \(0%\)/);
    assert.equal([...r.stdout.matchAll(/ ok {6}/g)].length, 4, r.stdout);
    assert.doesNotMatch(r.stderr, /threshold failed|req\/s/);
  } finally {
    await server.close();
  }
});

test('--progress prints a line per second: req/s, p50 and p99 of that second, errors, in flight', { timeout: 60_000 }, async () => {
  const server = await startHttpServer((_req, res, i) => {
    res.statusCode = i % 10 === 0 ? 503 : 200;
    res.end('ok');
  });
  try {
    const r = await caller(server.url, '--connections', '2', '--duration', '3s', '--progress');
    assert.equal(r.code, 0, r.stderr);
    // A last tick may fall into the drain, with a request or two: judge the seconds of load.
    const lines = [...r.stderr.matchAll(INTERVAL_LINE)].filter((m) => m[1] !== 'drain');
    assert.ok(lines.length >= 1, r.stderr);
    for (const [, , rate, p50, p99, errors, inFlight] of lines) {
      assert.ok(Number(rate) > 0 && Number(p50) > 0 && Number(p50) <= Number(p99), `${rate} req/s, p50 ${p50}, p99 ${p99}`);
      assert.ok(Number(errors) > 0, 'every tenth answer is a 503');
      assert.ok(Number(inFlight) <= 2);
    }
  } finally {
    await server.close();
  }
});

test('bad threshold values: exit 2 with the flag named', { timeout: 120_000 }, async () => {
  for (const [args, message] of [
    [['--max-p99', '20'], /--max-p99: a latency limit needs a unit/],
    [['--max-error-rate', '2'], /--max-error-rate: an error rate is a fraction/],
    [['--threshold', 'p99>3ms'], /not a threshold: "p99>3ms"/],
    [['--max-p99', '1ms', '--max-p99', '2ms'], /--max-p99 is given more than once/],
  ] as const) {
    const r = await caller('http://127.0.0.1:1/', ...args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
