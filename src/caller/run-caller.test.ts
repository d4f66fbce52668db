import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, startHttpServer, startRawServer } from '../testing/http-servers.js';
import { runCaller } from './run-caller.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'caller.ndjson');

test('closed loop: one record per request, ids unique and equal to the x-request-id the server saw', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = tmp();
  try {
    const result = await runCaller({ url: `${server.url}/empty?x=1`, connections: 4, requests: 200, warmupMs: 0, out, label: 'node' });
    const records = readRecords(out);
    assert.equal(result.requests, 200);
    assert.equal(result.responses, 200);
    assert.equal(result.records, 200);
    assert.equal(records.length, 200);
    assert.equal(server.arrivals.length, 200);
    const ids = new Set(records.map((r) => r.id));
    assert.equal(ids.size, 200, 'ids unique');
    assert.deepEqual([...ids].sort(), server.arrivals.map((a) => a.id).sort(), 'each record joins to a server request');
    for (const r of records) {
      assert.equal(r.role, 'caller');
      assert.match(r.id, /^[\w.:-]{1,128}$/, 'accepted by the gateway');
      assert.equal(r.method, 'GET');
      assert.equal(r.path, '/empty?x=1');
      assert.equal(r.connections, 4);
      assert.equal(r.label, 'node');
      assert.equal(r.status, 200);
      assert.equal(r.error, null);
      assert.equal(r.warmup, false);
      assert.ok(r.bytes > 5);
      assert.ok(BigInt(r.t6) > BigInt(r.t0));
      assert.equal('t0_intended' in r, false, 'closed loop has no due time');
    }
    // The server saw each request between its t0 and t6 (one clock: same process).
    const byId = new Map(records.map((r) => [r.id, r]));
    for (const a of server.arrivals) {
      const r = byId.get(a.id)!;
      assert.ok(BigInt(r.t0) <= a.at && a.at <= BigInt(r.t6));
    }
    assert.equal(result.mode, 'closed');
    assert.equal(result.latencyFrom, 't0');
    assert.equal(result.latencyUs.count, 200);
    const l = result.latencyUs;
    assert.ok(l.min > 0 && l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max);
    assert.ok(result.throughput > 0);
    assert.equal(result.lateSends, null);
    assert.equal(typeof result.bottleneck.flagged, 'boolean');
  } finally {
    await server.close();
  }
});

test('ids differ between runs; closed loop keeps at most N requests in flight', { timeout: 30_000 }, async () => {
  let inFlight = 0;
  let peak = 0;
  const server = await startHttpServer((_req, res) => {
    peak = Math.max(peak, ++inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('ok');
    }, 5);
  });
  try {
    await runCaller({ url: server.url, connections: 3, requests: 30, warmupMs: 0 });
    await runCaller({ url: server.url, connections: 3, requests: 30, warmupMs: 0 });
    assert.equal(new Set(server.arrivals.map((a) => a.id)).size, 60);
    assert.ok(peak <= 3, `peak in flight ${peak}`);
  } finally {
    await server.close();
  }
});

test('warm-up requests are recorded and flagged, and left out of the figures', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 2, durationMs: 300, warmupMs: 200, out });
    const records = readRecords(out);
    const warm = records.filter((r) => r.warmup);
    assert.ok(warm.length > 0);
    assert.equal(warm.length, result.warmupRequests);
    assert.equal(records.length - warm.length, result.requests);
    assert.equal(result.latencyUs.count, result.responses);
    assert.ok(Math.abs(result.window.seconds - 0.3) < 1e-6, 'duration mode: the window is the planned 300 ms');
    assert.ok(Math.abs(result.window.warmupSeconds - 0.2) < 1e-6);
    assert.equal(BigInt(result.window.endNs) - BigInt(result.window.startNs), 300_000_000n);
    for (const r of records) assert.equal(r.warmup, BigInt(r.t0) < BigInt(result.window.startNs));
  } finally {
    await server.close();
  }
});

test('an abort stops early, still flushes every record and returns a result', { timeout: 30_000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('slow'), 30));
  const out = tmp();
  try {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const started = Date.now();
    const result = await runCaller({ url: server.url, connections: 5, durationMs: 60_000, warmupMs: 0, out, signal: abort.signal });
    assert.ok(Date.now() - started < 10_000, 'stopped long before the planned minute');
    assert.equal(result.aborted, true);
    const records = readRecords(out);
    assert.equal(records.length, result.records);
    assert.equal(records.length, result.requests + result.warmupRequests);
    assert.equal(records.length, server.arrivals.length, 'every request that went out has a record');
    assert.ok(result.window.seconds < 5);
  } finally {
    await server.close();
  }
});

test('progress is reported while it runs', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  try {
    const seen: string[] = [];
    await runCaller({ url: server.url, connections: 2, durationMs: 400, warmupMs: 200, progressIntervalMs: 50, onProgress: (p) => seen.push(p.phase) });
    assert.ok(seen.includes('warmup') && seen.includes('measure'), seen.join(','));
  } finally {
    await server.close();
  }
});

test('POST bodies are sent; chunked and connection-close answers are read', { timeout: 30_000 }, async () => {
  const lengths: number[] = [];
  const server = await startHttpServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      lengths.push(n);
      if (lengths.length % 2 === 0) res.setHeader('connection', 'close');
      res.write('part one,');
      setImmediate(() => res.end('part two'));
    });
  });
  try {
    const body = Buffer.alloc(100_000, 7);
    const result = await runCaller({ url: `${server.url}/image`, method: 'post', body, connections: 2, requests: 10, warmupMs: 0 });
    assert.equal(result.method, 'POST');
    assert.equal(result.responses, 10, JSON.stringify(result.errors));
    assert.deepEqual(lengths, Array(10).fill(100_000));
  } finally {
    await server.close();
  }
});

test('responses split across reads, head included, on several connections at once are parsed intact', { timeout: 30_000 }, async () => {
  // Every piece of every response arrives in its own read, interleaved with the
  // other connections' reads: a parser that kept a view of a read buffer
  // instead of a copy would see another connection's bytes.
  const server = await startRawServer('', (socket, id) => {
    const body = `body-of-${id}`;
    const raw = `HTTP/1.1 200 OK\r\nX-Echo: ${id}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const pieces = [raw.slice(0, 9), raw.slice(9, 30), raw.slice(30, raw.length - 4), raw.slice(raw.length - 4)];
    // Chained, not scheduled up front: timers of different delays may run out
    // of order when the loop is late, and pieces must reach the socket in order.
    const next = (i: number): void => {
      const piece = pieces[i];
      if (piece === undefined) return;
      socket.write(piece);
      setTimeout(() => next(i + 1), 3);
    };
    next(0);
  });
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, connections: 4, requests: 40, warmupMs: 0, out });
    assert.equal(result.responses, 40, JSON.stringify(result.errors));
    for (const r of readRecords(out)) {
      assert.equal(r.status, 200);
      const expected = Buffer.byteLength(`HTTP/1.1 200 OK\r\nX-Echo: ${r.id}\r\nContent-Length: ${`body-of-${r.id}`.length}\r\n\r\nbody-of-${r.id}`);
      assert.equal(r.bytes, expected, `${r.id}: every byte of its own response`);
    }
  } finally {
    await server.close();
  }
});
