/**
 * The instance lifecycle with the real worker binary: cold then warm, expiry
 * after --keep-warm, the queue beyond --max-instances booked as worker queue,
 * LIFO reuse, pre-warming, and endless loops contained in every isolation
 * mode, inline functions under --isolation inline included (the watchdog). Every check holds at any machine speed: waits are generous lower
 * bounds, never upper ones.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { ReplyMessage } from '../rpc/protocol.js';
import { readRecords, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { mostAtOnce, rawRpc, type RawRpc } from '../testing/rpc-client.js';
import { defaultFunctionsDir } from './registry.js';

const NAP = `import { setTimeout as delay } from 'node:timers/promises';
export default { async run(args) { await delay(args.ms ?? 0); return { ms: args.ms ?? 0 }; } };\n`;

let dir: string;
const started: RoleProcess[] = [];
const clients: RawRpc[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-instances-'));
  await writeFile(join(dir, 'empty.mjs'), `export { default } from '${new URL(`file://${defaultFunctionsDir}/empty.js`).href}';\n`);
  await writeFile(join(dir, 'nap.mjs'), NAP);
  await writeFile(join(dir, 'lifo.mjs'), NAP);
  // Declares no mode, so --isolation inline would run it on the worker's loop.
  await writeFile(join(dir, 'spin.mjs'), 'export default { run() { for (;;) {} } };\n');
  // Its module takes a while to load: a slow cold start.
  await writeFile(join(dir, 'slowstart.mjs'), "import { setTimeout as delay } from 'node:timers/promises';\nawait delay(400);\nexport default { run() { return {}; } };\n");
  // A promise settled at once: the frame after it in a read waits for a turn.
  await writeFile(join(dir, 'settled.mjs'), 'export default { async run() { return { settled: true }; } };\n');
});
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(started.map((p) => p.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function worker(name: string, flags: string[]): Promise<{ rpc: RawRpc; records: string; address: string; process: RoleProcess }> {
  const records = join(dir, `${name}.ndjson`);
  const w = await startWorkerProcess(['--functions', dir, '--log', records, '--sample-interval-ms', '0', ...flags]);
  started.push(w);
  const rpc = await rawRpc(w.address);
  clients.push(rpc);
  return { rpc, records, address: w.address, process: w };
}

const one = async (rpc: RawRpc, fn: string, args: Record<string, unknown> = {}) => (await rpc.burst([{ fn, args }], 60_000))[0]!;
const ms = (ns: bigint) => Number(ns) / 1e6;
const byId = async (records: string) => new Map((await readRecords(records)).map((r) => [r.id as string, r]));
const stamp = (r: Record<string, unknown>, k: string) => BigInt(r[k] as string);

for (const isolation of ['thread', 'process']) {
  describe(`--isolation ${isolation}`, () => {
    let w: Awaited<ReturnType<typeof worker>>;
    let gateway: RoleProcess & { url: string };
    before(async () => {
      // The default time limit (30 s): however slow the machine, alloc meets its heap limit first.
      w = await worker(isolation, ['--isolation', isolation, '--max-instances', '2', '--function-memory-mb', '64', '--allow-fault-functions']);
      gateway = await startGatewayProcess('node', w.address);
      started.push(gateway);
    });

    for (const [kind, code] of [
      ['alloc', 'out_of_memory'],
      ['exit', 'function_crashed'],
    ]) {
      test(`a function that fails by ${kind} loses its instance only: ${code}, and calls beside it are answered`, async () => {
        const neighbour = await one(w.rpc, 'nap', { ms: 0 });
        const fault = one(w.rpc, 'fault', { kind });
        const during = await one(w.rpc, 'nap', { ms: 0 });
        const failed = await fault;
        assert.equal(failed.err?.code, code, failed.err?.message);
        assert.equal(during.err, undefined);
        const after = await one(w.rpc, 'nap', { ms: 0 });
        const instances = (await readRecordsSoon(w.records, 1)).filter((r) => r.fn === 'nap').map((r) => r.instance);
        assert.equal(new Set(instances.slice(-3)).size, 1, 'the neighbour kept its instance');
        assert.ok(after.t3_start > neighbour.t3_start);
      });
    }

    test('the first call starts an instance cold; the next one reuses it warm; /empty?instance=1 names it', async () => {
      const get = async (id: string) => {
        const res = await fetch(`${gateway.url}/empty?instance=1`, { headers: { 'x-request-id': id } });
        assert.equal(res.status, 200);
        return ((await res.json()) as { instance: string }).instance;
      };
      const first = await get(`${isolation}-first`);
      const second = await get(`${isolation}-second`);
      assert.equal(second, first, 'the warm instance answered again');
      await w.process.stop();
      started.splice(started.indexOf(w.process), 1);
      const records = await byId(w.records);
      const [a, b] = [records.get(`${isolation}-first`)!, records.get(`${isolation}-second`)!];
      assert.equal(a.instance, first);
      assert.equal(a.cold, true);
      assert.equal(b.instance, first);
      assert.equal(b.cold, false);
      assert.equal(b.cold_spawn, undefined, 'a warm call has no start-up stamps');
      // The cold start lies inside the call's worker queue, in order.
      const order = ['t3_recv', 'cold_spawn', 'cold_loaded', 'cold_init', 't3_start', 't3_end', 't3_send'].map((k) => stamp(a, k));
      for (let k = 1; k < order.length; k++) assert.ok(order[k - 1]! <= order[k]!, `stamp ${k} out of order: ${order.join(' ')}`);
    });
  });
}

for (const isolation of ['thread', 'process']) {
  describe(`--isolation ${isolation}: instances are limited, queued and contained`, () => {
    let w: Awaited<ReturnType<typeof worker>>;
    before(async () => {
      w = await worker(`limits-${isolation}`, ['--isolation', isolation, '--max-instances', '2', '--timeout-ms', '8000', '--allow-fault-functions']);
    });

    test('calls beyond --max-instances wait for an instance, and the wait is worker queue', async () => {
      const NAP_MS = 300;
      const replies = await w.rpc.burst(Array.from({ length: 6 }, () => ({ fn: 'nap', args: { ms: NAP_MS } })), 60_000);
      for (const r of replies) assert.equal(r.err, undefined, JSON.stringify(r.err));
      const records = [...(await readRecordsSoon(w.records, 6))].filter((r) => r.fn === 'nap');
      assert.equal(new Set(records.map((r) => r.instance)).size, 2, 'two instances served six calls');
      assert.ok(mostAtOnce(replies) <= 2, 'no more than two ran at once');
      for (const r of replies) assert.ok(ms(r.t3_end - r.t3_start) >= NAP_MS - 1, 'function is the nap alone');
      // Six calls on two instances: the last two waited for two whole naps each.
      const queues = replies.map((r) => ms(r.t3_start - r.t3_recv)).sort((a, b) => a - b);
      assert.ok(queues.at(-1)! >= 2 * NAP_MS - 1, `longest worker queue ${queues.at(-1)} ms`);
    });

    for (const [fn, args] of [
      ['spin', {}],
      ['fault', { kind: 'loop' }],
    ] as const) {
      test(`an endless loop (${fn}) loses its own instance at the time limit; other calls are answered meanwhile`, async () => {
        const loop = one(w.rpc, fn, args);
        await delay(200);
        const during = await one(w.rpc, 'empty');
        const looped = await loop;
        assert.equal(looped.err?.code, 'function_timeout');
        assert.equal(during.err, undefined);
        assert.ok(during.t3_send < looped.t3_send, 'the neighbour was answered before the loop was stopped');
        assert.equal((await one(w.rpc, fn === 'spin' ? 'nap' : 'fault', fn === 'spin' ? {} : { kind: 'throw' })).err?.code, fn === 'spin' ? undefined : 'function_error');
      });
    }
  });
}

test('a call that finds no warm instance waits for its own: two closed loops start two instances, each charged to a cold call', async () => {
  const w = await worker('bound', ['--max-instances', '8']);
  // Two callers, each sending its next call when the previous answer is in. While the second
  // instance starts, the first is free again many times over: none of that may start a third.
  const loop = async () => {
    for (let k = 0; k < 40; k++) assert.equal((await one(w.rpc, 'slowstart')).err, undefined);
  };
  await Promise.all([loop(), loop()]);
  const records = (await readRecordsSoon(w.records, 80)).filter((r) => r.fn === 'slowstart');
  assert.equal(records.length, 80);
  const instances = new Set(records.map((r) => r.instance));
  const cold = records.filter((r) => r.cold === true);
  assert.ok(instances.size <= 2, `${instances.size} instances for two callers`);
  assert.deepEqual(new Set(cold.map((r) => r.instance)), instances, 'every instance started for a call that waited for it');
  assert.equal(cold.length, instances.size);
});

test('an instance idle longer than --keep-warm is gone: the next call is cold in a new one', async () => {
  const w = await worker('keep-warm', ['--keep-warm', '300ms']);
  const first = await one(w.rpc, 'empty', { instance: true });
  await delay(1500);
  const later = await one(w.rpc, 'empty', { instance: true });
  assert.notEqual((later.result as { instance: string }).instance, (first.result as { instance: string }).instance);
  const records = [...(await readRecordsSoon(w.records, 2))];
  assert.deepEqual(
    records.map((r) => r.cold),
    [true, true],
  );
});

test('pre-warmed instances (--min-instances) answer warm, and the most recently used is reused first (LIFO)', async () => {
  const w = await worker('lifo', ['--min-instances', '2', '--max-instances', '2']);
  // Both pre-warmed instances run at once; the short call's instance is released long before the long one's.
  const [short, long] = await w.rpc.burst(
    [
      { fn: 'lifo', args: { ms: 0 } },
      { fn: 'lifo', args: { ms: 800 } },
    ],
    60_000,
  );
  const next = await one(w.rpc, 'lifo', { ms: 0 });
  const records = await readRecordsSoon(w.records, 3);
  const instanceOf = (r: ReplyMessage) => records.find((x) => x.t3_start === String(r.t3_start))!.instance;
  assert.notEqual(instanceOf(short!), instanceOf(long!), 'the two calls ran in the two pre-warmed instances');
  assert.equal(instanceOf(next), instanceOf(long!), 'the last one released is taken first');
  assert.deepEqual(
    records.map((r) => r.cold),
    [false, false, false],
  );
});

test('--isolation inline: a pool function that loops is stopped in its pool thread; calls go on', async () => {
  const w = await worker('inline', ['--isolation', 'inline', '--timeout-ms', '1500', '--allow-fault-functions']);
  const loop = one(w.rpc, 'fault', { kind: 'loop' });
  await delay(200);
  const during = await one(w.rpc, 'empty', { instance: true });
  assert.equal((await loop).err?.code, 'function_timeout');
  assert.match((during.result as { instance: string }).instance, /-empty-inline$/);
  const record = (await readRecordsSoon(w.records, 2)).find((r) => r.fn === 'empty')!;
  assert.equal(record.cold, false, 'an inline function is loaded at start: never cold');
});

describe('--isolation inline: an inline function that loops is stopped by the watchdog', () => {
  const LIMIT_MS = 1500;
  let w: Awaited<ReturnType<typeof worker>>;
  before(async () => {
    w = await worker('inline-watchdog', ['--isolation', 'inline', '--timeout-ms', String(LIMIT_MS)]);
  });

  test('spin is stopped at the limit (function_timeout); a call sent during the loop is answered once it is stopped, and later calls are answered', async () => {
    const loop = one(w.rpc, 'spin');
    await delay(200);
    const during = one(w.rpc, 'empty', { instance: true });
    const looped = await loop;
    assert.equal(looped.err?.code, 'function_timeout');
    assert.equal(looped.err?.message, `function spin ran past its limit of ${LIMIT_MS} ms`);
    assert.ok(ms(looped.t3_end - looped.t3_start) >= LIMIT_MS - 1, 'stopped no earlier than the limit');
    const neighbour = await during;
    assert.equal(neighbour.err, undefined);
    // One thread: the neighbour cannot run while spin loops, only after it is stopped.
    assert.ok(neighbour.t3_start > looped.t3_end, 'the neighbour ran after the loop was stopped');
    assert.equal((await one(w.rpc, 'nap', { ms: 0 })).err, undefined);
    assert.equal((await one(w.rpc, 'empty')).err, undefined);
    const spun = (await readRecordsSoon(w.records, 4)).find((r) => r.fn === 'spin');
    assert.equal(spun?.error, 'function_timeout', 'its record is written like any timed-out call');
    assert.match(spun.instance as string, /-spin-inline$/);
  });

  test('calls pipelined in one write around looping ones are all answered', async () => {
    const calls = [
      { fn: 'empty' },
      { fn: 'settled' },
      { fn: 'spin' },
      { fn: 'empty' },
      { fn: 'settled' },
      // After a settled promise: dispatched after a turn, from a message callback.
      { fn: 'spin' },
      { fn: 'nap', args: { ms: 0 } },
      { fn: 'empty' },
    ];
    const replies = await w.rpc.burst(calls, 120_000);
    assert.deepEqual(
      replies.map((r) => r.err?.code ?? 'ok'),
      calls.map((c) => (c.fn === 'spin' ? 'function_timeout' : 'ok')),
    );
    assert.equal((await one(w.rpc, 'empty')).err, undefined);
  });
});

test('a call whose client leaves while its instance starts never runs, and the worker answers the next', async () => {
  // Its own directory: its module, once armed (after the worker has checked it at start), says it is
  // loading and waits for the test to open a gate; each run leaves a mark.
  const gated = join(dir, 'gated');
  await mkdir(gated);
  const mark = (name: string) => JSON.stringify(join(gated, name));
  await writeFile(
    join(gated, 'gated.mjs'),
    `import { existsSync, writeFileSync } from 'node:fs';\nimport { setTimeout as delay } from 'node:timers/promises';\n` +
      `if (existsSync(${mark('armed')})) { writeFileSync(${mark('loading')}, ''); while (!existsSync(${mark('open')})) await delay(20); }\n` +
      `export default { run(args) { writeFileSync(${mark('ran-')} + args.tag, ''); return {}; } };\n`,
  );
  const records = join(dir, 'gated.ndjson');
  // A time limit beyond the wait for the record below: the call's end is its cancellation, never its limit.
  const w = await startWorkerProcess(['--functions', gated, '--log', records, '--sample-interval-ms', '0', '--isolation', 'thread', '--timeout-ms', '120000']);
  started.push(w);
  await writeFile(join(gated, 'armed'), '');
  const rpc = await rawRpc(w.address);
  void rpc.burst([{ fn: 'gated', args: { tag: 'left' }, rid: 'left-while-cold' }], 60_000).catch(() => {});
  // The instance is loading and waits at the gate: the call waits for it.
  await waitFor(() => existsSync(join(gated, 'loading')), 30_000, 'the instance loading');
  rpc.close();
  const cancelled = (await readRecordsSoon(records, 1)).find((r) => r.id === 'left-while-cold');
  assert.equal(cancelled?.error, 'cancelled', JSON.stringify(cancelled));
  await writeFile(join(gated, 'open'), '');
  const again = await rawRpc(w.address);
  clients.push(again);
  const next = await one(again, 'gated', { tag: 'next' });
  assert.equal(next.err, undefined, JSON.stringify(next.err));
  assert.ok(existsSync(join(gated, 'ran-next')), 'the next call ran');
  assert.ok(!existsSync(join(gated, 'ran-left')), 'the call whose client left never ran');
});

/** The records a worker has written so far, once there are `count` (records go out in batches). */
async function readRecordsSoon(file: string, count: number): Promise<Record<string, unknown>[]> {
  for (let k = 0; ; k++) {
    const records = await readRecords(file).catch(() => []);
    if (records.length >= count || k > 600) return records;
    await delay(100);
  }
}

