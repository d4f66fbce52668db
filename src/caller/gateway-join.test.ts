/**
 * The caller against the real thing: a `faasbench worker` and a `faasbench
 * gateway` process on port 0, all three writing records. Every caller record
 * must join by id to exactly one gateway record (and through it to the
 * worker's), and on one host the stamps must be in causal order.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readRecords, startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { runCaller, type CallerResult } from './run-caller.js';

let dir: string;
let worker: RoleProcess & { address: string };
let gateway: RoleProcess & { url: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-caller-join-'));
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson')]);
  gateway = await startGatewayProcess('node', worker.address, ['--log', join(dir, 'gateway.ndjson')]);
});

after(async () => {
  await gateway?.stop();
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

type Rec = Record<string, unknown>;
const stamp = (r: Rec, k: string) => BigInt(r[k] as string);

test('every caller record joins to one gateway record and one worker record by id; stamps nest', { timeout: 60_000 }, async () => {
  const out = join(dir, 'caller.ndjson');
  const runs: CallerResult[] = [];
  // Closed loop, open loop, and answers the gateway rejects (400): all must join.
  runs.push(await runCaller({ url: `${gateway.url}/empty`, connections: 4, requests: 150, warmupMs: 0, out, label: 'closed' }));
  runs.push(await runCaller({ url: `${gateway.url}/sleep?ms=2`, rate: 200, connections: 4, requests: 40, warmupMs: 0, out, label: 'open' }));
  runs.push(await runCaller({ url: `${gateway.url}/sleep?ms=abc`, connections: 2, requests: 10, warmupMs: 0, out, label: 'rejected' }));
  // Stop the roles so their records are flushed.
  await gateway.stop();
  await worker.stop();

  const callers = await readRecords(out);
  const gateways = await readRecords(join(dir, 'gateway.ndjson'));
  const workers = await readRecords(join(dir, 'worker.ndjson'));
  assert.equal(callers.length, 200, 'one caller record per request');
  assert.equal(runs.reduce((n, r) => n + r.records, 0), 200);
  assert.deepEqual(runs.map((r) => r.errors), [{}, {}, { status_4xx: 10 }], 'no socket errors; the 400s count as failures');

  const ids = callers.map((r) => r.id as string);
  assert.equal(new Set(ids).size, ids.length, 'caller ids unique');
  const gatewayById = new Map<string, Rec[]>();
  for (const g of gateways) gatewayById.set(g.id as string, [...(gatewayById.get(g.id as string) ?? []), g]);
  const workerById = new Map(workers.map((w) => [w.id as string, w]));
  assert.equal(gateways.length, callers.length, 'the gateway saw exactly these requests');

  for (const c of callers) {
    const matches = gatewayById.get(c.id as string) ?? [];
    assert.equal(matches.length, 1, `${c.id}: exactly one gateway record`);
    const g = matches[0]!;
    assert.equal(g.status, c.status, `${c.id}: same status on both sides`);
    // One host, one monotonic clock: the gateway saw the request after the caller
    // sent it, and the caller had the answer after the gateway saw the request.
    // (Not t5 <= t6: t5 is the gateway's 'finish' event, which often fires
    // ~0.1 ms after the caller, on the other core, has already parsed the reply.)
    assert.ok(stamp(c, 't0') <= stamp(g, 't1'), `${c.id}: t0 <= t1`);
    assert.ok(stamp(g, 't1') <= stamp(g, 't5'), `${c.id}: t1 <= t5`);
    assert.ok(stamp(g, 't1') < stamp(c, 't6'), `${c.id}: t1 < t6`);
    if (c.label === 'rejected') {
      assert.equal(c.status, 400);
      assert.equal(g.error, 'bad_parameter');
      assert.equal(workerById.has(c.id as string), false, 'a rejected request never reaches the worker');
    } else {
      assert.equal(c.status, 200);
      const w = workerById.get(c.id as string);
      assert.ok(w, `${c.id}: worker record`);
      assert.equal(w.t3_start, g.t3_start, `${c.id}: the gateway carries the worker's stamps`);
      assert.ok(stamp(g, 't2') <= stamp(w, 't3_recv') && stamp(w, 't3_send') <= stamp(g, 't4'));
      assert.ok(stamp(g, 't4') < stamp(c, 't6'), `${c.id}: the reply reached the gateway before the caller had it`);
    }
    if (c.label === 'open') assert.ok(stamp(c, 't0_intended') <= stamp(c, 't0'), `${c.id}: sent at or after its due time`);
  }
});
