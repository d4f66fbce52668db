/**
 * Balancing policies through the real binaries: three workers, one of them
 * slowed (its function waits on a timer, so it is slow on any machine
 * without using a CPU), one gateway per policy. Counts come from the
 * gateway's records; nothing is timed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectedToWorker } from '../run/role-process.js';
import { readRecords, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const SLOW_MS = 100;
const CALLS = 240;
const CONCURRENCY = 6;

let dir: string;
let workers: (RoleProcess & { address: string })[] = [];
let slow: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-balance-'));
  await mkdir(join(dir, 'fast'));
  await mkdir(join(dir, 'slow'));
  await writeFile(join(dir, 'fast', 'work.js'), 'export default { run: () => ({}) };\n');
  await writeFile(
    join(dir, 'slow', 'work.js'),
    `export default { run: () => new Promise((r) => setTimeout(() => r({}), ${SLOW_MS})) };\n`,
  );
  workers = await Promise.all(['slow', 'fast', 'fast'].map((kind) => startWorkerProcess(['--functions', join(dir, kind)])));
  slow = workers[0]!.address;
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await rm(dir, { recursive: true, force: true });
});

/** CALLS calls through a gateway with this policy, CONCURRENCY at a time; calls per worker address from its records. */
async function spread(balance: string): Promise<Map<string, number>> {
  const log = join(dir, `gateway-${balance}.ndjson`);
  const gateway = await startGatewayProcess('node', workers.map((w) => w.address).join(','), ['--balance', balance, '--log', log]);
  try {
    await connectedToWorker(gateway, workers.length, 120_000);
    let sent = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < CALLS) {
          sent++;
          const res = await fetch(`${gateway.url}/work`, { signal: AbortSignal.timeout(60_000) });
          const body = await res.text();
          assert.equal(res.status, 200, body);
        }
      }),
    );
  } finally {
    await gateway.stop();
  }
  const records = await readRecords(log);
  assert.equal(records.length, CALLS);
  const counts = new Map(workers.map((w) => [w.address, 0]));
  for (const r of records) {
    assert.equal(r.balance, balance);
    counts.set(r.worker as string, counts.get(r.worker as string)! + 1);
  }
  process.stdout.write(`${balance}: calls per worker, slowed first: ${[...counts.values()].join(' ')}\n`);
  return counts;
}

test('round-robin keeps the even split, slowed worker or not', async () => {
  const counts = [...(await spread('round-robin')).values()];
  for (const n of counts) assert.ok(Math.abs(n - CALLS / 3) <= 1, `calls per worker: ${counts}`);
});

test('least-outstanding sends fewer calls to the slowed worker', async () => {
  const counts = await spread('least-outstanding');
  const fair = CALLS / 3;
  const others = [...counts].filter(([a]) => a !== slow).map(([, n]) => n);
  assert.ok(counts.get(slow)! < fair, `slowed worker got ${counts.get(slow)} of ${CALLS} (${[...counts.values()]})`);
  for (const n of others) assert.ok(n > counts.get(slow)!, `${[...counts.values()]}`);
});

test('p2c keeps the slowed worker under its fair share', async () => {
  const counts = await spread('p2c');
  assert.ok(counts.get(slow)! < CALLS / 3, `slowed worker got ${counts.get(slow)} of ${CALLS} (${[...counts.values()]})`);
});

test('an unknown policy is one line on stderr and exit 2', async () => {
  const { runCli } = await import('../testing/processes.js');
  const r = await runCli(['gateway', '--framework', 'node', '--port', '0', '--balance', 'random']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /balance/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
