/**
 * The `alert` policy end to end on real components (seed 003, OpenFaaS): a
 * gateway serving metrics, `faasbench scaler --policy alert --alerting
 * local` starting a real Prometheus (scraping the gateway) and a real
 * Alertmanager (calling the scaler's webhook), and a pool of three
 * pre-deployed workers. Load makes the rule fire: the scaler adds workers
 * to the gateway's workers file and they take calls. Without load the alert
 * resolves: back to one worker, the others drained. Waited for as events.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectedToWorker } from '../run/role-process.js';
import { startLoad, until } from '../testing/load.js';
import { PATIENT, startRole, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { alertingBinaries } from './alerting.js';

const GUARD_MS = 180_000;

const fleetEvent = (g: RoleProcess, event: string, worker: string) =>
  g.logs.some((l) => l.includes('"msg":"fleet"') && l.includes(`"event":"${event}"`) && l.includes(`"worker":"${worker}"`));

test('alert: load fires the rule in a real Prometheus, Alertmanager calls the scaler, workers are added; resolved, they drain', { timeout: 400_000 }, async (t) => {
  const binaries = alertingBinaries();
  if ('missing' in binaries) {
    if (process.env.CI) throw new Error(`${binaries.missing} (.ci/run installs both)`);
    return t.skip(binaries.missing);
  }
  const dir = await mkdtemp(join(tmpdir(), 'fb-alert-'));
  const started: RoleProcess[] = [];
  try {
    const workers = await Promise.all([0, 1, 2].map(() => startWorkerProcess(['--isolation', 'inline'])));
    started.push(...workers);
    const file = join(dir, 'workers');
    await writeFile(file, `${workers[0]!.address}\n`);
    const log = join(dir, 'gateway.ndjson');
    const gateway = await startRole(['gateway', '--framework', 'node', '--port', '0', '--workers-file', file, '--metrics-port', '0', '--log', log], 'gateway listening', PATIENT);
    started.push(gateway);
    await connectedToWorker(gateway, 1, GUARD_MS);
    // One notification takes one worker to two (OpenFaaS: from one, to the step, floor(3 × 67 %) = 2).
    const config = join(dir, 'scaling.yaml');
    await writeFile(
      config,
      [
        'experiment: scaling',
        'scaling:',
        '  policies: [alert]',
        '  phases: [{connections: 1, duration: 1s}]',
        '  min: 1',
        '  max: 3',
        '  alert:',
        '    factor: 67',
        "    expr: 'sum(rate(faasbench_gateway_calls_in_flight_seconds_total[2s])) > 2'",
        '    for: 500ms',
        '    scrape: 250ms',
        '    evaluation: 250ms',
        '    groupWait: 250ms',
        '    groupInterval: 500ms',
        '    repeatInterval: 1h',
        '',
      ].join('\n'),
    );
    const scaler = await startRole(
      [
        'scaler', '--policy', 'alert', '--workers-file', file, '--pool', workers.map((w) => w.address).join(','),
        '--config', config, '--gateway-metrics', gateway.ready.metrics as string, '--alerting', 'local', '--webhook-port', '0',
      ],
      'scaler running',
      PATIENT,
    );
    started.push(scaler);
    assert.ok(scaler.ready.prometheus && scaler.ready.alertmanager, 'Prometheus and Alertmanager run');
    const second = workers[1]!.address;
    const load = startLoad({ url: `${gateway.ready.url as string}/sleep?ms=100`, concurrency: 6, maxCalls: 50_000 });
    try {
      await until(() => fleetEvent(gateway, 'connected', second), GUARD_MS, 'the rule to fire and the scaler to add a worker');
      const doneAt = load.done;
      await until(() => load.done >= doneAt + 30, GUARD_MS, '30 calls more');
    } finally {
      load.end();
      await load.finished;
    }
    assert.ok(scaler.logs.some((l) => l.includes('"scaler decision"') && l.includes('"reason":"firing"')), 'the scaler acted on a firing notification');
    assert.match(await readFile(file, 'utf8'), new RegExp(second.replace(/[.]/g, '\\.')));
    // No load: the rule resolves, Alertmanager says so, and the scaler goes back to min.
    await until(() => fleetEvent(gateway, 'removed', second), GUARD_MS, 'the alert to resolve and the added worker to drain');
    assert.ok(scaler.logs.some((l) => l.includes('"scaler decision"') && l.includes('"reason":"resolved"')));
    await gateway.stop();
    const calls = (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type?: string; worker?: string; status?: number });
    const requests = calls.filter((c) => c.type === undefined);
    assert.ok(requests.some((c) => c.worker === second), 'the added worker took calls');
    assert.ok(requests.every((c) => c.status === 200), 'scaling failed no call');
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  }
});
