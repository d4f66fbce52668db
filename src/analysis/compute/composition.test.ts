import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinTrees, type Rec } from '../read/tree.js';
import { criticalPath, gapsOf, hopStages, summarizeTree } from './composition.js';

const s = (n: number) => String(1_000_000 + n);

/** A worker record: t3 stamps at recv, start, end, send. */
function worker(id: string, fn: string, [recv, start, end, send]: number[], extra: Rec = {}): Rec {
  return { role: 'worker', host: 'h', id, fn, error: null, t3_recv: s(recv!), t3_start: s(start!), t3_end: s(end!), t3_send: s(send!), instance: null, cold: null, ...extra };
}
const call = (id: string, fn: string, via: string, send: number, recv: number | null, step: string | null = null) => ({
  id, fn, via, step, error: null, c_send: s(send), c_recv: recv === null ? null : s(recv),
});

test('a sequence of three: one tree, stages that add up to each hop, gaps from one end to the next start', () => {
  const records = [
    worker('R', 'seq', [0, 10, 400, 410], {
      calls: [call('R.1', 'empty', 'local', 20, 100), call('R.2', 'empty', 'local', 120, 200), call('R.3', 'empty', 'local', 220, 390)],
    }),
    worker('R.1', 'empty', [30, 40, 50, 90], { parent: 'R', depth: 1 }),
    worker('R.2', 'empty', [130, 150, 160, 190], { parent: 'R', depth: 1 }),
    worker('R.3', 'empty', [230, 250, 300, 380], { parent: 'R', depth: 1, cold: true }),
    // Another request, and one without nested calls: no tree.
    worker('Q', 'empty', [0, 1, 2, 3]),
  ];
  const trees = joinTrees(records, [], [{ role: 'caller', id: 'R', t0: s(0), t6: s(500) }]);
  assert.equal(trees.length, 1);
  const t = trees[0]!;
  assert.equal(t.caller?.id, 'R');
  assert.deepEqual(t.hops.map((h) => [h.id, h.parent, h.depth, h.via]), [['R.1', 'R', 1, 'local'], ['R.2', 'R', 1, 'local'], ['R.3', 'R', 1, 'local']]);
  for (const h of t.hops) {
    const st = hopStages(h)!;
    assert.equal(st.link + st.worker_queue + st.function + st.worker_out, st.total, `${h.id} adds up`);
  }
  assert.deepEqual(hopStages(t.hops[0]!), {
    id: 'R.1', fn: 'empty', via: 'local', step: null, depth: 1, total: 80, link: 20, gateway_in: null, rpc_link: null, respond: null,
    worker_queue: 10, function: 10, worker_out: 40, overhead: 70, cold: false, error: null,
  });
  assert.deepEqual(gapsOf(t.root), { lead: 30, between: [150 - 50, 250 - 160], tail: 100 });
  const c = criticalPath(t.root);
  assert.deepEqual(c.hops, ['R.1', 'R.2', 'R.3']);
  assert.equal(c.ns, 80 + 80 + 170);
  const sum = summarizeTree(t);
  assert.equal(sum.root_function, 390);
  assert.equal(sum.overhead_per_hop, (390 - 10 - 10 - 50) / 3);
  assert.equal(sum.cold_hops, 1);
  assert.equal(sum.complete, true);
});

test('a fan-out of four and a fan-in: overlapping hops are parallel, the critical path is one branch and the fan-in', () => {
  const kids = [1, 2, 3, 4].map((k) => call(`R.${k}`, 'sleep', 'rpc', 10 + k, 200 + 10 * k));
  const records = [
    worker('R', 'fan', [0, 5, 400, 405], { calls: [...kids, call('R.5', 'join', 'rpc', 250, 300)] }),
    ...[1, 2, 3, 4].map((k) => worker(`R.${k}`, 'sleep', [20 + k, 30 + k, 180 + k, 190 + k], { parent: 'R', depth: 1 })),
    worker('R.5', 'join', [260, 270, 280, 290], { parent: 'R', depth: 1 }),
  ];
  const [t] = joinTrees(records);
  const c = criticalPath(t!.root);
  assert.equal(c.hops.length, 2);
  assert.equal(c.hops[1], 'R.5');
  assert.ok(c.parallelism > 3, `parallelism ${c.parallelism}`);
  // The fan-in's gap is from the last branch's end.
  assert.deepEqual(gapsOf(t!.root).between, [270 - 184]);
});

test('through a gateway: the hop splits into link, gateway in, RPC link, worker stages and respond, adding up', () => {
  const records = [
    worker('R', 'seq', [0, 10, 400, 410], { calls: [call('R.1', 'empty', 'http', 20, 300)] }),
    worker('R.1', 'empty', [100, 110, 120, 150], { parent: 'R', depth: 1 }),
  ];
  const gw = [{ role: 'gateway', id: 'R.1', t1: s(50), t2: s(80), t4: s(200), t5: s(250) }];
  const [t] = joinTrees(records, gw);
  const st = hopStages(t!.hops[0]!)!;
  assert.deepEqual([st.link, st.gateway_in, st.rpc_link, st.worker_queue, st.function, st.worker_out, st.respond], [280 - 200, 30, 120 - 50, 10, 10, 30, 50]);
  assert.equal(st.link + st.gateway_in! + st.rpc_link! + st.worker_queue + st.function + st.worker_out + st.respond!, st.total);
});

test('nested hops join below their parent; a hop its caller did not record, or a callee without records, is kept but not staged', () => {
  const records = [
    worker('R', 'a', [0, 1, 100, 101], { calls: [call('R.1', 'b', 'local', 2, 90), call('R.2', 'gone', 'rpc', 91, 95)] }),
    worker('R.1', 'b', [3, 4, 80, 85], { parent: 'R', depth: 1, calls: [call('R.1.1', 'c', 'local', 10, 20)] }),
    worker('R.1.1', 'c', [11, 12, 13, 14], { parent: 'R.1', depth: 2 }),
    worker('R.1.2', 'c', [30, 31, 32, 33], { parent: 'R.1', depth: 2 }),
  ];
  const [t] = joinTrees(records);
  assert.deepEqual(t!.hops.map((h) => [h.id, h.depth, h.call !== null, h.worker !== null]), [
    ['R.1', 1, true, true],
    ['R.1.1', 2, true, true],
    ['R.1.2', 2, false, true],
    ['R.2', 1, true, false],
  ]);
  assert.equal(hopStages(t!.hops[2]!), null);
  assert.equal(hopStages(t!.hops[3]!), null);
  assert.equal(summarizeTree(t!).complete, false);
});
