import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { analyze } from '../analyze.js';
import { DEFAULT_DURATIONS, DEFAULT_HOSTS, HOURS, requestLines, writeRecordDir, type Durations, type Hosts, type RecordLines } from '../../testing/analysis-records.js';
import { Ingest } from '../read/ingest.js';
import { joinRequests, UNROUTED } from '../read/join.js';
import { callerRuns } from '../read/runs.js';
import { stageAt } from './stage-columns.js';
import { PARTS, STAGES, type LinkPart, type Stage } from './stages.js';
import { RequestTable } from '../read/table.js';

function tableOf(records: RecordLines[]): RequestTable {
  const table = new RequestTable(16);
  const ingest = new Ingest(table);
  for (const r of records) for (const line of [r.caller, r.gateway, r.worker]) ingest.line(line, 'test', 1);
  return table.sealed();
}

/** What each stage must be, from the durations the fixture laid out. */
function expected(d: Durations): Record<Exclude<Stage, 'roundtrip_intended' | LinkPart>, number> {
  const n = (v: bigint) => Number(v);
  const roundtrip = Object.values(d).reduce((a, b) => a + b, 0n);
  return {
    gateway_in: n(d.gateway_in),
    rpc_link: n(d.rpc_out + d.rpc_back),
    worker_queue: n(d.worker_queue),
    function: n(d.function),
    worker_out: n(d.worker_out),
    respond: n(d.respond),
    caller_link: n(d.net_in + d.net_out),
    roundtrip: n(roundtrip),
    handler: n(roundtrip - d.net_in - d.net_out),
    delta: n(d.net_in + d.net_out),
    // Closed loop (no t0_intended): latency is the roundtrip.
    latency: n(roundtrip),
  };
}

test('every stage formula gives the duration laid out, across hosts hours apart and stamps beyond 2^53', () => {
  const d: Durations = { ...DEFAULT_DURATIONS, function: 7_777_777n, respond: 123_457n };
  const t = tableOf([requestLines({ id: 'a', at: 1_000_000n, d })]);
  assert.equal(t.size, 1);
  const want = expected(d);
  for (const [stage, value] of Object.entries(want)) {
    assert.equal(stageAt(t, stage as Stage, 0), value, stage);
  }
  // No t0_intended in a closed-loop record: that stage is missing, not zero.
  assert.ok(Number.isNaN(stageAt(t, 'roundtrip_intended', 0)));
  // The seven parts add up to the roundtrip exactly, and so do handler and delta.
  const sum = PARTS.reduce((acc, p) => acc + stageAt(t, p, 0), 0);
  assert.equal(sum, want.roundtrip);
  assert.equal(stageAt(t, 'handler', 0) + stageAt(t, 'delta', 0), want.roundtrip);
});

test('each stage moves with its own duration only', () => {
  const keys = Object.keys(DEFAULT_DURATIONS) as (keyof Durations)[];
  for (const key of keys) {
    const base = tableOf([requestLines({ id: 'x', at: 5n, d: {} })]);
    const bumped = tableOf([requestLines({ id: 'x', at: 5n, d: { [key]: DEFAULT_DURATIONS[key] + 1_000n } })]);
    const changed = STAGES.filter((s) => s !== 'roundtrip_intended' && !Object.is(stageAt(bumped, s, 0), stageAt(base, s, 0)));
    const owner: Record<keyof Durations, Stage> = {
      net_in: 'caller_link', gateway_in: 'gateway_in', rpc_out: 'rpc_link', rpc_back: 'rpc_link', worker_queue: 'worker_queue',
      function: 'function', worker_out: 'worker_out', respond: 'respond', net_out: 'caller_link',
    };
    // The original report's two: the handler holds every gateway-side stage, the delta the rest.
    const seed: Stage = owner[key] === 'caller_link' ? 'delta' : 'handler';
    // Closed loop: latency is the roundtrip.
    assert.deepEqual(changed.sort(), [owner[key], seed, 'roundtrip', 'latency'].sort(), key);
    assert.equal(stageAt(bumped, owner[key], 0) - stageAt(base, owner[key], 0), 1_000, key);
  }
});

test('open loop: roundtrip from the due time is t6 − t0_intended', () => {
  const r = requestLines({ id: 'o', at: 10_000n });
  const caller = JSON.parse(r.caller) as Record<string, string>;
  caller.t0_intended = String(BigInt(caller.t0!) - 250_000n);
  const t = tableOf([{ ...r, caller: JSON.stringify(caller) }]);
  assert.equal(stageAt(t, 'roundtrip_intended', 0), stageAt(t, 'roundtrip', 0) + 250_000);
  assert.equal(stageAt(t, 'latency', 0), stageAt(t, 'roundtrip_intended', 0), 'open loop: latency is from the due time');
});

/** Many requests with varied durations, under the given hosts' clocks. */
function varied(hosts: Hosts): RecordLines[] {
  const out: RecordLines[] = [];
  for (let k = 0; k < 300; k++) {
    const v = BigInt(k);
    out.push(
      requestLines(
        {
          id: `r${k}`,
          at: 1_000_000n * v,
          framework: k % 3 === 0 ? 'fastify' : 'node',
          fn: k % 2 ? 'empty' : 'math',
          d: { function: 1_000n + ((v * 7919n) % 500_000n), respond: 10_000n + ((v * 104_729n) % 90_000n), rpc_back: 5_000n + ((v * 31n) % 4_000n) },
        },
        hosts,
      ),
    );
  }
  return out;
}

test('a worker clock offset by any amount gives identical stage figures', async () => {
  const shifts = [0n, 1n, -1n, 3n * HOURS + 17n, -7n * HOURS, 2n ** 62n];
  const figures: unknown[] = [];
  const dirs: string[] = [];
  try {
    for (const shift of shifts) {
      // The worker's clock moves; so, independently, does the caller's.
      const hosts: Hosts = { ...DEFAULT_HOSTS, workerBase: DEFAULT_HOSTS.workerBase + shift, callerBase: DEFAULT_HOSTS.callerBase + (shift < 0n ? -shift : shift / 3n) };
      const recs = varied(hosts);
      const dir = await writeRecordDir({ caller: recs.map((r) => r.caller), gateway: recs.map((r) => r.gateway), worker: recs.map((r) => r.worker) });
      dirs.push(dir);
      const { summary } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
      assert.equal(summary.joins.measured, 300);
      assert.equal(summary.records.worker_copy_mismatch, 0);
      figures.push({ groups: summary.groups, comparisons: summary.comparisons, answer: summary.answer });
    }
    for (let k = 1; k < figures.length; k++) assert.deepEqual(figures[k], figures[0], `worker clock shifted by ${shifts[k]} ns`);
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
});

test('joined stages do not depend on which of the worker record or the gateway copy came first', () => {
  const r = requestLines({ id: 'w', at: 0n });
  const gatewayFirst = tableOf([r]);
  const table = new RequestTable(16);
  const ingest = new Ingest(table);
  for (const line of [r.worker, r.caller, r.gateway]) ingest.line(line, 'test', 1);
  table.sealed();
  for (const s of STAGES) assert.ok(Object.is(stageAt(table, s, 0), stageAt(gatewayFirst, s, 0)), s);
  assert.equal(ingest.counts.workerCopyMismatch, 0);
  assert.equal(joinRequests(table, callerRuns(table, UNROUTED)).counts.measured, 1);
});
