/**
 * A real Prometheus server (Debian's package) on loopback scrapes the real
 * worker and gateway and answers a PromQL query for a stage's p99.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { dashboardExpressions, requireTool, startPrometheus, type PrometheusServer } from '../testing/prometheus.js';

const prometheusBinary = requireTool('prometheus');

let worker: RoleProcess & { address: string };
let gateway: RoleProcess & { url: string };
let prometheus: PrometheusServer | null = null;

before(async () => {
  worker = await startWorkerProcess(['--metrics-port', '0']);
  gateway = await startGatewayProcess('fastify', worker.address, ['--metrics-port', '0']);
});

after(async () => {
  await prometheus?.stop();
  await gateway?.stop();
  await worker?.stop();
});

const target = (role: RoleProcess) => new URL(String(role.ready.metrics)).host;

test('Prometheus scrapes both roles and answers the p99 of a stage', async (t) => {
  if ('skip' in prometheusBinary) return t.skip(prometheusBinary.skip);
  prometheus = await startPrometheus(prometheusBinary.path, { gateway: target(gateway), worker: target(worker) });
  const caller = await runCli(['caller', '--url', `${gateway.url}/sleep?ms=2`, '--requests', '200', '--connections', '4', '--warmup', '0'], { timeoutMs: 180_000 });
  assert.equal(caller.code, 0, caller.stderr);
  const p99 = (metric: string) => `histogram_quantile(0.99, sum by (le) (${metric}_bucket{fn="sleep",stage="function"}))`;
  let gatewayP99: number[] = [];
  let workerP99: number[] = [];
  await waitFor(
    async () => {
      const up = await prometheus!.query('up == 1');
      if (new Set(up.map((r) => r.metric.job)).size < 2) return false;
      gatewayP99 = (await prometheus!.query(p99('faasbench_gateway_stage_seconds'))).map((r) => Number(r.value[1]));
      workerP99 = (await prometheus!.query(p99('faasbench_worker_stage_seconds'))).map((r) => Number(r.value[1]));
      // Scrapes after the load: the histograms hold all 200 calls.
      const count = await prometheus!.query('sum(faasbench_worker_calls_total{fn="sleep",outcome="ok"})');
      return Number(count[0]?.value[1]) === 200 && gatewayP99.length === 1 && workerP99.length === 1;
    },
    120_000,
    'Prometheus to scrape both roles after the load',
  );
  // A 2 ms sleep: its p99 is interpolated in a bucket above 1 ms (a timer may fire a little early), never beyond the largest bound.
  for (const [role, [value]] of [['gateway', gatewayP99], ['worker', workerP99]] as const) {
    assert.ok(Number.isFinite(value) && value! > 0.001 && value! <= 60, `${role} p99 of function: ${value}`);
  }
  // Every query of docker/'s dashboard is valid PromQL to this server, its Grafana variables as "all".
  for (const expr of await dashboardExpressions()) {
    const promql = expr.replaceAll('$__rate_interval', '1m').replace(/\$(framework|fn|stage)\b/g, '.*');
    await assert.doesNotReject(prometheus.query(promql), promql);
  }
});
