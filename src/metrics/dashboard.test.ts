/**
 * docker/'s observability files: the scrape config passes promtool and
 * scrapes every metrics port compose gives the roles, and the dashboard asks
 * only for metrics the roles expose.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { dashboardExpressions, DOCKER, parseExposition, requireTool } from '../testing/prometheus.js';
import { GatewayMetrics, WorkerMetrics } from './index.js';

const promtool = requireTool('promtool');

test('docker/prometheus.yml passes promtool and scrapes every metrics port of compose.yaml', async (t) => {
  if ('skip' in promtool) return t.skip(promtool.skip);
  const check = spawnSync(promtool.path, ['check', 'config', fileURLToPath(new URL('prometheus.yml', DOCKER))], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  const compose = parse(await readFile(new URL('compose.yaml', DOCKER), 'utf8')) as { services: Record<string, { command?: string[] }> };
  const scrape = parse(await readFile(new URL('prometheus.yml', DOCKER), 'utf8')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
  const targets = new Set(scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets)));
  const expected: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const command = service.command ?? [];
    const at = command.indexOf('--metrics-port');
    if (at === -1) continue;
    // The gateways share the network namespace of the service "gateway".
    expected.push(`${name.startsWith('gateway') ? 'gateway' : name}:${command[at + 1]}`);
  }
  assert.equal(expected.length, 6, 'the worker and five gateways serve metrics');
  assert.deepEqual([...targets].sort(), expected.sort());
});

test('the dashboard asks only for metrics the roles expose', async () => {
  const gateway = new GatewayMetrics('node', { inFlight: () => 0, httpConnections: () => 0, rpcConnected: () => 1, rpcReconnects: () => 0 });
  gateway.observe({ fn: 'empty', error: null, t1: 0n, t2: 1n, t4: 5n, worker: { t3_recv: 2n, t3_start: 2n, t3_end: 3n, t3_send: 4n } }, 200, 6n);
  const worker = new WorkerMetrics(() => ({ inflight: 0 }), () => 1);
  worker.observe('empty', null, { cold: { spawn: 0n, loaded: 1n, init: 1n } }, 0n, 1n, 2n, 3n);
  worker.observe('empty', null, { cold: null }, 0n, 1n, 2n, 3n);
  const sample = { t: 0n, intervalMs: 1000, elu: 0.5, delayP50Us: 1, delayP99Us: 2, delayMaxUs: 3, cpuUserUs: 10, cpuSystemUs: 5, rssBytes: 1, gcPauseUs: 4, gcMaxPauseUs: 3, gcCount: 2, gauges: {} };
  gateway.onSample(sample);
  worker.onSample(sample);
  const names = new Set(parseExposition((await gateway.registry.metrics()) + (await worker.registry.metrics())).map((s) => s.name));
  const exprs = await dashboardExpressions();
  assert.ok(exprs.length >= 10);
  for (const expr of exprs) {
    for (const [name] of expr.matchAll(/faasbench_\w+/g)) assert.ok(names.has(name), `${name} (in ${expr}) is exposed`);
  }
});
