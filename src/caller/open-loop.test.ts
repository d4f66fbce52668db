import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, startHttpServer } from '../testing/http-servers.js';
import { runCaller } from './run-caller.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'caller.ndjson');

test('open loop: requests are due evenly, and arrive evenly, not in per-second bursts', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = tmp();
  try {
    // 100/s for 1.5 s. autocannon's overallRate would send 100 at the top of each second.
    const result = await runCaller({ url: server.url, rate: 100, connections: 5, durationMs: 1500, warmupMs: 0, out });
    const records = readRecords(out);
    assert.equal(result.mode, 'open');
    assert.equal(records.length, server.arrivals.length);
    assert.equal(records.length + result.unsent!, 150, 'exactly the due requests, none invented');
    // Due times: exactly 10 ms apart.
    const due = records.map((r) => BigInt(r.t0_intended!)).sort((a, b) => (a < b ? -1 : 1));
    for (let i = 1; i < due.length; i++) assert.equal(due[i]! - due[i - 1]!, 10_000_000n);
    // No request left before it was due.
    for (const r of records) assert.ok(BigInt(r.t0) >= BigInt(r.t0_intended!));
    // Arrivals at the server: no window of 100 ms holds a per-second burst.
    // (How evenly they arrive beyond that depends on how busy the machine is:
    // a stall delays sends, which then catch up; the due times above are the
    // caller's part.)
    const at = server.arrivals.map((a) => Number(a.at) / 1e6);
    let worst = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i]! - at[j]! >= 100) j++;
      worst = Math.max(worst, i - j + 1);
    }
    assert.ok(worst < 100, `fewer than a second's worth (100) of arrivals in any 100 ms, saw ${worst}`);
  } finally {
    await server.close();
  }
});

test('open loop: latency is taken from the due time, so a stall shows in the requests queued behind it', { timeout: 30_000 }, async () => {
  // One connection, due every 20 ms; the server holds the 4th request 400 ms.
  const server = await startHttpServer((_req, res, index) => {
    if (index === 3) setTimeout(() => res.end('late'), 400);
    else res.end('ok');
  });
  const out = tmp();
  try {
    const result = await runCaller({ url: server.url, rate: 50, connections: 1, requests: 20, warmupMs: 0, out });
    const records = readRecords(out);
    assert.equal(records.length, 20);
    assert.equal(result.latencyFrom, 't0_intended');
    const fromDue = records.map((r) => Number(BigInt(r.t6) - BigInt(r.t0_intended!)) / 1e6);
    const fromSend = records.map((r) => Number(BigInt(r.t6) - BigInt(r.t0)) / 1e6);
    const slowFromDue = fromDue.filter((ms) => ms >= 150).length;
    const slowFromSend = fromSend.filter((ms) => ms >= 150).length;
    // ~20 requests were due during the stall; they waited for the connection.
    assert.ok(slowFromDue >= 5, `${slowFromDue} slow from the due time`);
    assert.ok(slowFromSend <= 2, `${slowFromSend} slow from the send (a closed loop would only see these)`);
    assert.ok(result.lateSends! >= 5, `${result.lateSends} late sends`);
    assert.ok(result.latencyUs.p90 >= 150_000, `p90 ${result.latencyUs.p90} µs includes the stall`);
    assert.ok(result.latencyUs.max >= 300_000);
  } finally {
    await server.close();
  }
});

test('open loop: an abort stops sending; unsent counts only what fell due before it, not the rest of the schedule', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = tmp();
  try {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    // 100/s for a planned minute: 6000 scheduled, ~30 due before the abort.
    const result = await runCaller({ url: server.url, rate: 100, connections: 2, durationMs: 60_000, warmupMs: 0, out, signal: abort.signal });
    const records = readRecords(out);
    assert.equal(result.aborted, true);
    assert.equal(records.length, server.arrivals.length, 'every sent request has a record');
    assert.ok(records.length > 0 && records.length < 1000, `${records.length} sent`);
    assert.ok(result.unsent! < 100, `unsent ${result.unsent}: only requests already due may count`);
  } finally {
    await server.close();
  }
});
