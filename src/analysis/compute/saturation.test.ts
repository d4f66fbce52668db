import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { analyze } from '../analyze.js';
import { DEFAULT_HOSTS, requestLines, writeRecordDir, type Durations, type RecordLines } from '../../testing/analysis-records.js';

const S = 1_000_000_000n;

/** A sample line as the roles write it, ending at true time `end` on `host`'s clock. */
function sampleLine(role: 'caller' | 'gateway' | 'worker', end: bigint, elu: number, extra: Record<string, unknown> = {}): string {
  const base = { caller: DEFAULT_HOSTS.callerBase, gateway: DEFAULT_HOSTS.gatewayBase, worker: DEFAULT_HOSTS.workerBase }[role];
  return JSON.stringify({
    role, type: 'sample', host: DEFAULT_HOSTS[role], pid: 42, ...extra, t: String(end + base), interval_ms: 1000, elu,
    delay_p50_us: 10, delay_p99_us: 100, delay_max_us: 500, cpu_user_us: Math.round(elu * 800_000), cpu_system_us: Math.round(elu * 100_000),
    rss_bytes: 50_000_000,
  });
}

/** `count` requests of one cell, one every 10 ms from `from`. */
function cell(prefix: string, from: bigint, count: number, connections: number, d: Partial<Durations> = {}): RecordLines[] {
  return Array.from({ length: count }, (_, k) =>
    requestLines({ id: `${prefix}-${k}`, at: from + BigInt(k) * 10_000_000n, connections, d }),
  );
}

async function run(requests: RecordLines[], samples: { caller?: string[]; gateway?: string[]; worker?: string[] }) {
  const dir = await writeRecordDir({
    caller: [...requests.map((r) => r.caller), ...(samples.caller ?? [])],
    gateway: [...requests.map((r) => r.gateway), ...(samples.gateway ?? [])],
    worker: [...requests.map((r) => r.worker), ...(samples.worker ?? [])],
  });
  try {
    return (await analyze({ inputs: [dir], csv: false, resamples: 50 })).summary;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('each cell gets the load its processes sampled while it ran, rounds pooled, other frameworks ignored', async () => {
  // Connections 1: two rounds (0–3 s and 20–23 s), a quiet gateway. Connections 150: 10–13 s, a saturated one.
  const requests = [...cell('a', 0n, 300, 1), ...cell('b', 10n * S, 300, 150), ...cell('c', 20n * S, 300, 1)];
  const gateway: string[] = [];
  const worker: string[] = [];
  for (let s = 1n; s <= 24n; s++) {
    const busy = s > 10n && s <= 13n;
    const secondRound = s > 20n;
    gateway.push(sampleLine('gateway', s * S, busy ? 0.97 : secondRound ? 0.3 : 0.1, { framework: 'node', inflight: busy ? 140 : 1 }));
    // Another framework's gateway on the same host, busy all the time: not this cell's.
    gateway.push(sampleLine('gateway', s * S, 0.99, { framework: 'hono', inflight: 0 }));
    worker.push(sampleLine('worker', s * S, busy ? 0.5 : 0.05, { inflight: 3, pool_running: 2, pool_queued: busy ? 30 : 0 }));
  }
  const summary = await run(requests, { gateway, worker });
  assert.equal(summary.records.samples.gateway, 48);
  const [one, many] = [1, 150].map((c) => summary.cells.find((x) => x.connections === c)!);
  assert.ok(one && many);
  // Three samples per round, each wholly inside a window; the round-2 samples read 0.3, round 1 read 0.1.
  assert.equal(one.load.gateway!.samples, 6);
  assert.ok(Math.abs(one.load.gateway!.elu - 0.2) < 0.02, `${one.load.gateway!.elu}`);
  assert.ok(Math.abs(many.load.gateway!.elu - 0.97) < 0.02, `${many.load.gateway!.elu}`);
  assert.ok(Math.abs(many.load.gateway!.cpu_percent - 0.97 * 90) < 2, `${many.load.gateway!.cpu_percent}`);
  assert.equal(many.load.gateway!.gauges.inflight!.max, 140);
  assert.deepEqual(many.saturated, ['gateway']);
  assert.deepEqual(one.saturated, []);
  assert.ok(many.notes.some((n) => /gateway's loop was busy 97% of the time.*Gateway: requests wait to be read \(caller link\)/.test(n)), many.notes.join(' | '));
  assert.deepEqual(many.findings.map((f) => f.tag), ['gateway saturated', 'pool queue 30']);
  assert.ok(many.notes.some((n) => /30\.0 calls .* waited for a pool thread: worker queue holds that wait/.test(n)), many.notes.join(' | '));
  assert.equal(one.load.caller, undefined, 'no caller samples were written');
});

test("the collector's pauses: their share of each cell's time and the longest, a finding when long, null in records without them", async () => {
  const requests = [...cell('quiet', 0n, 300, 1), ...cell('busy', 10n * S, 300, 150)];
  const gateway: string[] = [];
  const worker: string[] = [];
  for (let s = 1n; s <= 13n; s++) {
    const busy = s > 10n;
    // The gateway's samples predate the collector's fields.
    gateway.push(sampleLine('gateway', s * S, 0.3, { framework: 'node' }));
    worker.push(sampleLine('worker', s * S, 0.3, busy ? { gc_pause_us: 80_000, gc_max_pause_us: 12_000, gc_count: 40 } : { gc_pause_us: 5_000, gc_max_pause_us: 1_500, gc_count: 4 }));
  }
  const summary = await run(requests, { gateway, worker });
  const [quiet, busy] = [1, 150].map((c) => summary.cells.find((x) => x.connections === c)!);
  assert.equal(busy!.load.worker!.gc_percent, 8);
  assert.equal(busy!.load.worker!.gc_max_pause_us, 12_000);
  assert.equal(quiet!.load.worker!.gc_percent, 0.5);
  assert.equal(quiet!.load.worker!.gc_max_pause_us, 1_500);
  assert.equal(busy!.load.gateway!.gc_percent, null);
  assert.equal(busy!.load.gateway!.gc_max_pause_us, null);
  assert.deepEqual(busy!.findings.map((f) => f.tag), ['collector: worker']);
  assert.ok(busy!.notes.some((n) => /worker's garbage collector paused it 8% of the time, up to 12\.0 ms at once/.test(n)), busy!.notes.join(' | '));
  assert.deepEqual(quiet!.findings, []);
  // The gc fields are the collector's, not gauges.
  assert.equal(busy!.load.worker!.gauges.gc_pause_us, undefined);
});

test('a cell shorter than a sample interval still gets the overlapping part of it', async () => {
  const summary = await run(cell('short', 100n * S + 200_000_000n, 50, 8), {
    caller: [sampleLine('caller', 101n * S, 0.6, { label: 'node', inflight: 8 })],
  });
  const c = summary.cells[0]!;
  assert.ok(c.load.caller, 'the overlapping sample counts');
  assert.equal(c.load.caller!.elu, 0.6);
  assert.ok(c.load.caller!.seconds < 1);
});

test("the original report's conclusion is decided from respond's share, with the delta beside it", async () => {
  const small = await run([...cell('x', 0n, 100, 1), ...cell('y', 5n * S, 100, 150)], {});
  const verdict = small.answer.seed!;
  assert.equal(verdict.endpoint, 'empty');
  assert.equal(verdict.holds, false);
  assert.match(verdict.sentence, /does not hold here: on empty, respond .* is 3\.\d% of the roundtrip/);
  assert.equal(verdict.by_connections.length, 2);
  assert.ok(Math.abs(verdict.pooled.delta_share + verdict.pooled.handler_share - 1) < 1e-9);
  // A gateway that spends a millisecond between the reply and the response: respond is then a third or more.
  const slow = await run(cell('z', 0n, 100, 8, { respond: 1_500_000n }), {});
  assert.equal(slow.answer.seed!.holds, true);
  assert.match(slow.answer.seed!.sentence, / holds here/);
});
