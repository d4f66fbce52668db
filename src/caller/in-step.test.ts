/**
 * Scale-out on one machine with the real binaries: two workers, two gateways
 * each given both workers, and two callers (told apart by FAASBENCH_HOST)
 * started with one --start-at and each spreading its connections over both
 * gateways. The analysis must merge both callers, and show both gateways and
 * both workers, with every request joined.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { analyze } from '../analysis/analyze.js';
import { connectedToWorker } from '../run/role-process.js';
import { readRecords, runCli, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const REQUESTS = 60;
let dir: string;
const roles: RoleProcess[] = [];
let gateways: (RoleProcess & { url: string })[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-in-step-'));
  const workers = await Promise.all([0, 1].map((k) => startWorkerProcess(['--log', join(dir, `worker-${k}.ndjson`)])));
  roles.push(...workers);
  const addresses = workers.map((w) => w.address).join(',');
  // Records tell gateways apart by host: each gets its own name, as on two machines (read at spawn).
  for (const k of [0, 1]) {
    const own = process.env.FAASBENCH_HOST;
    process.env.FAASBENCH_HOST = `gateway-${k}`;
    try {
      gateways.push(await startGatewayProcess('node', addresses, ['--balance', 'least-outstanding', '--log', join(dir, `gateway-${k}.ndjson`)]));
    } finally {
      if (own === undefined) delete process.env.FAASBENCH_HOST;
      else process.env.FAASBENCH_HOST = own;
    }
  }
  roles.push(...gateways);
  for (const g of gateways) await connectedToWorker(g, 2, 120_000);
});
after(async () => {
  await Promise.all(roles.map((r) => r.stop()));
  await rm(dir, { recursive: true, force: true });
});

test('two callers in step over two gateways and two workers: merged, every request joined', { timeout: 180_000 }, async () => {
  // Far enough ahead that both callers are waiting before it comes, however slowly they start.
  const startAt = new Date(Date.now() + 4000).toISOString();
  const launched = Date.now();
  const callers = await Promise.all(
    ['caller-a', 'caller-b'].map((host) =>
      runCli(
        ['caller', '--url', `${gateways[0]!.url}/empty,${gateways[1]!.url}/empty`, '--connections', '4', '--requests', String(REQUESTS),
          '--warmup', '0s', '--start-at', startAt, '--out', join(dir, `${host}.ndjson`), '--no-progress'],
        { env: { ...process.env, FAASBENCH_HOST: host }, timeoutMs: 120_000 },
      ),
    ),
  );
  for (const c of callers) assert.equal(c.code, 0, c.stderr);
  // Neither sent before the start time (a lower bound: holds at any machine speed).
  assert.ok(Date.now() >= Date.parse(startAt), `the callers finished ${Date.parse(startAt) - Date.now()} ms before the start time (launched ${launched})`);
  for (const host of ['caller-a', 'caller-b']) {
    const records = await readRecords(join(dir, `${host}.ndjson`));
    assert.ok(records.length >= REQUESTS);
    assert.ok(records.every((r) => r.host === host), `${host}: every record carries its host`);
  }
  await Promise.all(roles.map((r) => r.stop()));

  const { summary } = await analyze({ inputs: [dir], out: join(dir, 'report'), csv: false, resamples: 100 });
  assert.equal(summary.joins.caller_without_gateway + summary.joins.gateway_without_caller + summary.joins.gateway_without_worker, 0);
  assert.equal(summary.joins.measured, 2 * REQUESTS);
  const s = summary.scale;
  assert.deepEqual(s.callers.map((c) => [c.host, c.measured]), [['caller-a', REQUESTS], ['caller-b', REQUESTS]]);
  for (const c of s.callers) assert.equal(typeof c.start_lag_ms, 'number', 'both callers reached a common gateway');
  assert.equal(s.gateways.length, 2, 'both gateways served');
  // Each caller sent two of its four connections to each gateway (closed loop: the quicker one answers more).
  assert.ok(s.gateways.every((g) => g.measured > 0));
  assert.equal(s.gateways[0]!.measured + s.gateways[1]!.measured, 2 * REQUESTS);
  assert.equal(s.workers.length, 2, 'both workers served');
  assert.deepEqual([...new Set(s.workers.map((w) => `${w.balance} ${w.workers}`))], ['least-outstanding 2']);
  assert.equal(s.replicas.length, 1);
  assert.equal(s.replicas[0]!.workers_used, 2);
});
