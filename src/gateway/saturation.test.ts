/**
 * The saturation samples tell a busy gateway from an idle one: the real
 * worker and gateway record with samples, the caller drives a saturating
 * closed loop and then a slow open loop, and the analysis reads each cell's
 * load from what the processes sampled.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../analysis/analyze.js';
import { runCaller } from '../caller/index.js';
import { readRecords, startGatewayProcess, startWorkerProcess } from '../testing/processes.js';

test('the gateway loop reads busy under a saturating closed loop and idle under a slow open loop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-saturation-'));
  const samples = ['--sample-interval-ms', '250'];
  // The floor (inline): the worker must keep up, so that the gateway is what saturates.
  const worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson'), '--isolation', 'inline', ...samples]);
  const gateway = await startGatewayProcess('node', worker.address, ['--log', join(dir, 'gateway.ndjson'), ...samples]);
  try {
    const common = { url: `${gateway.url}/empty`, out: join(dir, 'caller.ndjson'), warmupMs: 300, sampleIntervalMs: 250 };
    const busy = await runCaller({ ...common, connections: 64, durationMs: 2000 });
    const idle = await runCaller({ ...common, connections: 2, rate: 20, durationMs: 2000 });
    assert.equal(busy.errorCount + idle.errorCount, 0);
    // A five-request run has too little sampled time to judge: never flagged.
    const tiny = await runCaller({ url: `${gateway.url}/empty`, connections: 1, requests: 5, warmupMs: 0 });
    assert.equal(tiny.bottleneck.flagged, false);
    assert.ok(tiny.bottleneck.sampledSeconds < 0.5);
  } finally {
    await gateway.stop();
    await worker.stop();
  }
  try {
    const samplesInGateway = await readRecords(join(dir, 'gateway.ndjson'), 'samples');
    assert.ok(samplesInGateway.length >= 8, `${samplesInGateway.length} gateway samples`);
    assert.ok(samplesInGateway.every((r) => r.framework === 'node' && typeof r.elu === 'number' && typeof r.inflight === 'number'));
    // node reports each collection, and a 2-second closed loop through node:http makes many.
    assert.ok(samplesInGateway.every((r) => typeof r.gc_pause_us === 'number' && typeof r.gc_max_pause_us === 'number' && typeof r.gc_count === 'number'));
    assert.ok(samplesInGateway.reduce((n, r) => n + (r.gc_count as number), 0) > 0, 'the gateway collected garbage under load');
    const { summary } = await analyze({ inputs: [dir], csv: false, resamples: 50 });
    const closed = summary.cells.find((c) => c.connections === 64)!;
    const open = summary.cells.find((c) => c.connections === 2)!;
    for (const c of [closed, open]) for (const role of ['caller', 'gateway', 'worker'] as const) assert.ok(c.load[role], `${c.connections}: ${role} load`);
    const [high, low] = [closed.load.gateway!.elu, open.load.gateway!.elu];
    assert.ok(high >= 0.4 && low <= 0.25 && high >= 3 * low, `gateway loop busy ${high} under the closed loop, ${low} under the open loop`);
    assert.ok(closed.load.gateway!.gauges.connections!.max >= 32, 'the closed loop kept its connections open');
    assert.ok(summary.timeline!.utilisation.some((u) => u.role === 'gateway' && u.gc_max_pause_ms! > 0), 'the longest pause over time');
    assert.ok(closed.load.gateway!.gc_max_pause_us! > 0 && typeof closed.load.gateway!.gc_percent === 'number', `gateway collector ${closed.load.gateway!.gc_percent}%`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
