import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, startHttpServer, startRawServer, unusedPort } from '../testing/http-servers.js';
import { runCaller } from './run-caller.js';
import { CallerOptionsError } from './options.js';
import { TargetUnreachableError } from './load-loop.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'caller.ndjson');

test('a server that destroys the socket: every request recorded as a failure with its class', { timeout: 30_000 }, async () => {
  const server = await startHttpServer((req) => req.socket.destroy());
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 2, requests: 10, warmupMs: 0, out });
    const records = readRecords(out);
    assert.equal(records.length, 10);
    assert.equal(result.requests, 10);
    assert.equal(result.responses, 0);
    assert.equal(result.errorCount, 10);
    for (const r of records) {
      assert.equal(r.status, 0);
      assert.ok(r.error === 'socket_closed' || r.error === 'econnreset', String(r.error));
      assert.ok(BigInt(r.t6) >= BigInt(r.t0), 't6 is the moment of failure');
    }
    assert.equal(result.latencyUs.count, 0, 'failures are counted, not mixed into latency');
  } finally {
    await server.close();
  }
});

test('a port nobody listens on: refused before the load, no request sent', { timeout: 30_000 }, async () => {
  const port = await unusedPort();
  const out = tmp();
  await assert.rejects(
    runCaller({ url: `http://127.0.0.1:${port}/empty`, connections: 2, durationMs: 3_600_000, out }),
    (err: Error) => err instanceof TargetUnreachableError && err.message.startsWith(`cannot connect to 127.0.0.1:${port}: connection refused`),
  );
  assert.equal(readRecords(out).length, 0, 'no request records');
});

test('a server that refuses some connections only: the run goes ahead and records each refusal', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const port = await unusedPort();
  const out = tmp();
  try {
    // Connection k goes to URL k mod 2: one of two connections is refused on every attempt.
    const result = await runCaller({ url: [`${server.url}/empty`, `http://127.0.0.1:${port}/empty`], connections: 2, requests: 20, warmupMs: 0, out });
    assert.ok((result.errors.econnrefused ?? 0) > 0, JSON.stringify(result.errors));
    assert.ok(result.responses > 0);
    assert.equal(readRecords(out).filter((r) => r.error === 'econnrefused').length, result.errors.econnrefused);
  } finally {
    await server.close();
  }
});

test('a server that never answers: timeout, with the time to failure', { timeout: 30_000 }, async () => {
  const server = await startHttpServer(() => {}); // never answers
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 2, requests: 2, warmupMs: 0, timeoutMs: 200, out });
    const records = readRecords(out);
    assert.equal(records.length, 2);
    assert.deepEqual(result.errors, { timeout: 2 });
    for (const r of records) {
      const ms = Number(BigInt(r.t6) - BigInt(r.t0)) / 1e6;
      assert.ok(ms >= 200 && ms < 5000, `failed after ${ms} ms`);
    }
  } finally {
    await server.close();
  }
});

test('a malformed response: parse_error', { timeout: 30_000 }, async () => {
  const server = await startRawServer('HTTP/1.1 abc\r\n\r\n');
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 1, requests: 3, warmupMs: 0, out });
    assert.deepEqual(result.errors, { parse_error: 3 });
    assert.equal(readRecords(out).length, 3);
  } finally {
    await server.close();
  }
});

test('non-2xx answers are answered, and failed by status class; they keep their status and latency', { timeout: 30_000 }, async () => {
  const server = await startHttpServer((_req, res, i) => {
    res.statusCode = i % 2 === 0 ? 503 : 404;
    res.end('busy');
  });
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 1, requests: 6, warmupMs: 0, out });
    assert.deepEqual(result.statusCounts, { 503: 3, 404: 3 });
    assert.equal(result.responses, 6);
    assert.deepEqual(result.errors, { status_5xx: 3, status_4xx: 3 });
    assert.equal(result.errorCount, 6);
    assert.equal(result.errorRate, 1);
    assert.equal(result.latencyUs.count, 6, 'an error answer has a latency like any answer');
    assert.deepEqual(readRecords(out).map((r) => [r.status, r.error]).sort(), [...Array(3).fill([404, null]), ...Array(3).fill([503, null])]);
  } finally {
    await server.close();
  }
});

test('bad options are rejected before any request', async () => {
  await assert.rejects(runCaller({ url: 'https://127.0.0.1:1/' }), CallerOptionsError);
  await assert.rejects(runCaller({ url: 'http://127.0.0.1:1/', connections: 0 }), CallerOptionsError);
  await assert.rejects(runCaller({ url: 'http://127.0.0.1:1/', requests: 5, durationMs: 100 }), CallerOptionsError);
  await assert.rejects(runCaller({ url: 'http://127.0.0.1:1/', headers: { 'x-request-id': 'mine' } }), CallerOptionsError);
  // Several URLs: one protocol and one path for the whole run.
  await assert.rejects(runCaller({ url: ['http://127.0.0.1:1/empty', 'tcp://127.0.0.1:2/empty'] }), /same protocol, path and query/);
  await assert.rejects(runCaller({ url: ['tcp://127.0.0.1:1/empty', 'tcp://127.0.0.1:2/math'] }), /same protocol, path and query/);
  await assert.rejects(runCaller({ url: ['tcp://127.0.0.1:1/empty', 'tcp://127.0.0.1/empty'] }), /needs a port/);
});
