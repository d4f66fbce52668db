/**
 * A fleet that changes under load, through the real binaries: a worker added
 * through the workers file, one drained, one killed with SIGKILL (with and
 * without retries), one frozen with SIGSTOP (health checks), one made slow
 * (outlier ejection). Every claim is read from the gateway's records and its
 * fleet records afterwards, as orderings of stamps: which worker a call went
 * to before and after an event. Waits are for events, bounded by hang guards.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { connectedToWorker } from '../run/role-process.js';
import { startLoad, until } from '../testing/load.js';
import { PATIENT, startRole, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const GUARD_MS = 120_000;
let dir: string;
const started: RoleProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-fleet-'));
});
after(async () => {
  await Promise.all(started.map((p) => p.stop('SIGKILL')));
  await rm(dir, { recursive: true, force: true });
});

async function worker(extra: string[] = []) {
  const w = await startWorkerProcess(['--isolation', 'inline', ...extra]);
  started.push(w);
  return w;
}

async function gateway(name: string, args: string[], connected: number) {
  const log = join(dir, `${name}.ndjson`);
  const g = await startRole(['gateway', '--framework', 'node', '--port', '0', '--log', log, ...args], 'gateway listening', PATIENT);
  started.push(g);
  await connectedToWorker(g, connected, GUARD_MS);
  return Object.assign(g, { url: g.ready.url as string, log });
}

async function writeWorkers(file: string, addresses: string[]): Promise<void> {
  await writeFile(`${file}.tmp`, addresses.map((a) => `${a}\n`).join(''));
  await rename(`${file}.tmp`, file);
}

/** The fleet events the gateway has logged so far. */
function logged(g: RoleProcess, event: string, worker: string): boolean {
  return g.logs.some((l) => l.includes('"msg":"fleet"') && l.includes(`"event":"${event}"`) && l.includes(`"worker":"${worker}"`));
}

interface Call {
  worker: string | null;
  status: number;
  error: string | null;
  t2: bigint | null;
  t4: bigint | null;
  retry?: { worker: string; t2: string | null; failed: string; error: string };
}

/** A stopped gateway's request records, and the stamp of each fleet event `event worker`. */
async function recordsOf(file: string): Promise<{ calls: Call[]; at: (event: string, worker: string) => bigint }> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const big = (v: unknown) => (typeof v === 'string' ? BigInt(v) : null);
  const calls = lines
    .filter((r) => r.type === undefined)
    .map((r) => ({ worker: r.worker as string | null, status: r.status as number, error: r.error as string | null, t2: big(r.t2), t4: big(r.t4), retry: r.retry as Call['retry'] }));
  const fleet = lines.filter((r) => r.type === 'fleet');
  const at = (event: string, worker: string) => {
    const r = fleet.find((f) => f.event === event && f.worker === worker);
    assert.ok(r, `no fleet record "${event}" for ${worker}: ${JSON.stringify(fleet.map((f) => [f.event, f.worker]))}`);
    return BigInt(r.t as string);
  };
  return { calls, at };
}

const byT2 = (calls: Call[]) => calls.filter((c) => c.t2 !== null).sort((a, b) => (a.t2! < b.t2! ? -1 : 1));

test('a worker added to the workers file under load takes calls as soon as its link is up, not a health check later', { timeout: 300_000 }, async () => {
  const a = await worker();
  const file = join(dir, 'added.workers');
  await writeWorkers(file, [a.address]);
  const g = await gateway('added', ['--workers-file', file, '--health-interval-ms', '60000'], 1);
  const load = startLoad({ url: `${g.url}/sleep?ms=10`, concurrency: 4, maxCalls: 20_000 });
  try {
    await until(() => load.done >= 40, GUARD_MS, '40 calls');
    const b = await worker();
    await writeWorkers(file, [a.address, b.address]);
    await until(() => logged(g, 'connected', b.address), GUARD_MS, 'the added worker connected');
    const doneAt = load.done;
    await until(() => load.done >= doneAt + 40, GUARD_MS, '40 calls more');
    load.end();
    await load.finished;
    await g.stop();
    const { calls, at } = await recordsOf(g.log);
    const connected = at('connected', b.address);
    assert.ok(at('added', b.address) <= connected);
    // At most `concurrency` calls were picked before its welcome and handed to the socket after it.
    const next = byT2(calls).filter((c) => c.t2! > connected).slice(0, 4 + 2);
    assert.ok(next.some((c) => c.worker === b.address), `the next calls went to ${next.map((c) => c.worker).join(', ')}`);
    assert.ok(calls.every((c) => c.status === 200), 'no call failed');
    assert.ok(calls.filter((c) => c.worker === b.address).length >= 10, 'it kept taking its share');
  } finally {
    load.end();
    await load.finished;
  }
});

test('a worker drained from the file finishes its calls in flight and gets no new ones', { timeout: 300_000 }, async () => {
  const [a, b] = [await worker(), await worker()];
  const file = join(dir, 'drained.workers');
  await writeWorkers(file, [a.address, b.address]);
  const g = await gateway('drained', ['--workers-file', file], 2);
  const load = startLoad({ url: `${g.url}/sleep?ms=300`, concurrency: 6, maxCalls: 5000 });
  try {
    await until(() => load.done >= 12, GUARD_MS, '12 calls');
    await writeWorkers(file, [a.address]);
    await until(() => logged(g, 'removed', b.address), GUARD_MS, 'the drained worker removed');
    const doneAt = load.done;
    await until(() => load.done >= doneAt + 12, GUARD_MS, '12 calls more');
    load.end();
    await load.finished;
    await g.stop();
    const { calls, at } = await recordsOf(g.log);
    const draining = at('draining', b.address);
    const removed = at('removed', b.address);
    const onB = calls.filter((c) => c.worker === b.address);
    assert.equal(onB.filter((c) => c.t2! > draining).length, 0, 'no call sent to it after it began to drain');
    const inFlight = onB.filter((c) => c.t2! < draining && c.t4 !== null && c.t4 > draining);
    assert.ok(inFlight.length >= 1, 'it had calls in flight when it began to drain');
    assert.ok(onB.every((c) => c.status === 200 && c.t4! <= removed), 'each answered, before the worker was removed');
    assert.ok(calls.every((c) => c.status === 200), 'no call failed');
    assert.deepEqual([...load.statuses.keys()], [200]);
  } finally {
    load.end();
    await load.finished;
  }
});

/** Kills one of three workers under load; the gateway's calls, and the caller's statuses. */
async function killOne(name: string, extra: string[]) {
  const ws = [await worker(), await worker(), await worker()];
  const victim = ws[2]!;
  const g = await gateway(name, ['--worker', ws.map((w) => w.address).join(','), ...extra], 3);
  const load = startLoad({ url: `${g.url}/sleep?ms=200`, concurrency: 6, maxCalls: 5000 });
  try {
    await until(() => load.done >= 15, GUARD_MS, '15 calls');
    victim.proc.kill('SIGKILL');
    await until(() => logged(g, 'lost', victim.address), GUARD_MS, 'the killed worker lost');
    const doneAt = load.done;
    await until(() => load.done >= doneAt + 15, GUARD_MS, '15 calls more');
  } finally {
    load.end();
    await load.finished;
  }
  await g.stop();
  const { calls, at } = await recordsOf(g.log);
  const lost = at('lost', victim.address);
  assert.equal(calls.filter((c) => c.worker === victim.address && c.t2! > lost).length, 0, 'no call sent to it after it was lost');
  return { calls, statuses: load.statuses, victim: victim.address, lost };
}

test('a SIGKILLed worker costs only the calls in flight on it', { timeout: 300_000 }, async () => {
  const { calls, statuses, victim, lost } = await killOne('killed', []);
  const failed = calls.filter((c) => c.status !== 200);
  assert.ok(failed.length >= 1 && failed.length <= 6, `${failed.length} calls failed: at most the 6 in flight`);
  for (const c of failed) {
    assert.equal(c.worker, victim);
    assert.equal(c.error, 'worker_unavailable');
    assert.ok(c.t2 !== null && c.t2 < lost, 'sent before the loss, unanswered');
  }
  assert.equal(calls.length - failed.length, statuses.get(200));
  assert.equal([...statuses].filter(([s]) => s !== 200).reduce((n, [, k]) => n + k, 0), failed.length, 'the caller saw exactly those failures');
});

test('with --retry-lost, a SIGKILLed worker costs nothing: its calls in flight are retried once elsewhere, both attempts recorded', { timeout: 300_000 }, async () => {
  const { calls, statuses, victim } = await killOne('killed-retry', ['--retry-lost']);
  assert.deepEqual([...statuses.keys()], [200], 'no call failed');
  const retried = calls.filter((c) => c.retry);
  assert.ok(retried.length >= 1 && retried.length <= 6, `${retried.length} retried`);
  for (const c of retried) {
    assert.equal(c.retry!.worker, victim);
    assert.equal(c.retry!.error, 'worker_unavailable');
    assert.notEqual(c.worker, victim);
    assert.ok(c.t2! > BigInt(c.retry!.failed), 'the second attempt after the first failed');
  }
});

test('a frozen worker (SIGSTOP) stops getting calls once its pings go unanswered, and gets them again after', { timeout: 300_000 }, async () => {
  const [a, b] = [await worker(), await worker()];
  const g = await gateway('frozen', ['--worker', `${a.address},${b.address}`, '--health-interval-ms', '200', '--unhealthy-threshold', '2', '--healthy-threshold', '1'], 2);
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) assert.equal((await fetch(`${g.url}/empty`)).status, 200);
  };
  await send(4);
  b.proc.kill('SIGSTOP');
  try {
    await until(() => logged(g, 'unhealthy', b.address), GUARD_MS, 'the frozen worker unhealthy');
    await send(10);
  } finally {
    b.proc.kill('SIGCONT');
  }
  await until(() => logged(g, 'healthy', b.address), GUARD_MS, 'the worker healthy again');
  await send(10);
  await g.stop();
  const { calls, at } = await recordsOf(g.log);
  const [down, up] = [at('unhealthy', b.address), at('healthy', b.address)];
  assert.equal(calls.filter((c) => c.worker === b.address && c.t2! > down && c.t2! < up).length, 0, 'none while unhealthy');
  assert.ok(calls.filter((c) => c.worker === a.address && c.t2! > down && c.t2! < up).length >= 10);
  assert.ok(calls.some((c) => c.worker === b.address && c.t2! > up), 'calls again once healthy');
});

test('health checks never take out the only worker: frozen past the threshold, it keeps its calls and answers them once it runs again', { timeout: 300_000 }, async () => {
  const w = await worker();
  const g = await gateway('only', ['--worker', w.address, '--health-interval-ms', '200', '--unhealthy-threshold', '2', '--healthy-threshold', '1'], 1);
  assert.equal((await fetch(`${g.url}/empty`)).status, 200);
  w.proc.kill('SIGSTOP');
  let pending: Promise<number>;
  try {
    await until(() => logged(g, 'unhealthy', w.address), GUARD_MS, 'the frozen worker past the miss threshold');
    assert.ok(g.logs.some((l) => l.includes('kept taking calls')), 'kept, being the only worker');
    // Sent while the worker is frozen: before, the gateway answered 502 at once (no worker taking calls).
    pending = fetch(`${g.url}/empty`).then((r) => r.status);
    // Time for the gateway to take the request while the worker is frozen (the test holds either way; this makes it fail before the fix).
    await delay(1000);
  } finally {
    w.proc.kill('SIGCONT');
  }
  assert.equal(await pending, 200);
  for (let i = 0; i < 5; i++) assert.equal((await fetch(`${g.url}/empty`)).status, 200);
});

test('a slow worker is ejected after consecutive slow calls and readmitted after the ejection time', { timeout: 300_000 }, async () => {
  const ws = [await worker(), await worker(), await worker(['--experiment-slowdown', '10'])];
  const slow = ws[2]!.address;
  const g = await gateway(
    'ejected',
    ['--worker', ws.map((w) => w.address).join(','), '--eject-after', '3', '--eject-slow-ms', '250', '--ejection-time-ms', '1000', '--max-ejection-percent', '34'],
    3,
  );
  const load = startLoad({ url: `${g.url}/sleep?ms=50`, concurrency: 3, maxCalls: 20_000 });
  try {
    await until(() => logged(g, 'readmitted', slow), GUARD_MS, 'the slow worker ejected and readmitted');
    const doneAt = load.done;
    await until(() => load.done >= doneAt + 30, GUARD_MS, '30 calls more');
  } finally {
    load.end();
    await load.finished;
  }
  await g.stop();
  const { calls, at } = await recordsOf(g.log);
  const [out, back] = [at('ejected', slow), at('readmitted', slow)];
  assert.ok(out < back);
  assert.equal(calls.filter((c) => c.worker === slow && c.t2! > out && c.t2! < back).length, 0, 'none while ejected');
  assert.ok(calls.some((c) => c.worker === slow && c.t2! > back), 'calls again once readmitted');
  assert.ok(calls.every((c) => c.status === 200), 'ejection fails no call');
});

test('a worker host name re-resolved on an interval is called at each of its addresses', { timeout: 300_000 }, async () => {
  const a = await worker();
  const port = a.address.split(':').at(-1)!;
  // localhost: the resolver's answer (from /etc/hosts), IPv4 when there is one.
  const g = await gateway('resolved', ['--worker', `localhost:${port}`, '--resolve-interval-ms', '200'], 1);
  assert.equal((await fetch(`${g.url}/empty`)).status, 200);
  await g.stop();
  const { calls, at } = await recordsOf(g.log);
  assert.ok(at('added', `127.0.0.1:${port}`) > 0n, 'the name became its address');
  assert.deepEqual([...new Set(calls.map((c) => c.worker))], [`127.0.0.1:${port}`]);
});
