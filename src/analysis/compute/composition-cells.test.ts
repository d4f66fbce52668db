import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinTrees, type Rec } from '../read/tree.js';
import { coldHidden, coldStarts, summarizeCells, waterfall, type ComposePlanFile } from './composition-cells.js';

const s = (n: number) => String(1_000_000 + n * 1000);
const plan: ComposePlanFile = {
  shape: 'chain',
  sizes: [2],
  fn: 'empty',
  length: null,
  variants: [{ label: 'local', mode: 'local', coordinator: 'worker', boot: 'none', warm: false }],
  paths: { '/chain-2': 2 },
};

/** A chain of two: root [0, 100], hops at [10, 40] and [50, 90], each function 5 µs. */
function chain(id: string, extra: Rec = {}): Rec[] {
  return [
    { role: 'caller', id, label: 'local', path: '/chain-2', connections: 1, warmup: false, status: 200, t0: s(-10), t6: s(110) },
    { role: 'worker', host: 'h', id, fn: 'chain-2', error: null, t3_recv: s(-1), t3_start: s(0), t3_end: s(100), t3_send: s(101), calls: [
      { id: `${id}.1`, fn: 'empty', via: 'local', step: 'steps[0]#1', error: null, c_send: s(10), c_recv: s(40) },
      { id: `${id}.2`, fn: 'empty', via: 'local', step: 'steps[0]#2', error: null, c_send: s(50), c_recv: s(90) },
    ] },
    { role: 'worker', host: 'h', id: `${id}.1`, fn: 'empty', error: null, t3_recv: s(15), t3_start: s(20), t3_end: s(25), t3_send: s(30), parent: id, depth: 1, ...extra },
    { role: 'worker', host: 'h', id: `${id}.2`, fn: 'empty', error: null, t3_recv: s(55), t3_start: s(60), t3_end: s(65), t3_send: s(70), parent: id, depth: 1 },
  ];
}

test('a cell: its requests by label and path, overhead per hop, gaps, critical path; a warm-up request is left out', () => {
  const recs = [...chain('A'), ...chain('B'), ...chain('W').map((r) => (r.role === 'caller' ? { ...r, warmup: true } : r))];
  const trees = joinTrees(recs.filter((r) => r.role === 'worker'), [], recs.filter((r) => r.role === 'caller'));
  const [cell] = summarizeCells(plan, trees);
  assert.equal(cell!.requests, 2);
  assert.equal(cell!.root_function_us.p50, 100);
  assert.equal(cell!.overhead_per_hop_us.p50, (100 - 10) / 2);
  assert.equal(cell!.hop_overhead_us.p50, 25);
  assert.equal(cell!.gap_us.p50, 60 - 25);
  assert.equal(cell!.critical_path_hops, 2);
  assert.equal(cell!.stage_p50_us.function, 5);
  assert.equal(cell!.stage_p50_us.gateway_in, null);
  const rows = waterfall(trees.find((t) => t.id === 'A')!)!;
  assert.deepEqual(rows.filter((r) => r.order === 0).map((r) => [r.stage, r.from_us, r.to_us]), [
    ['link', 10, 15], ['worker_queue', 15, 20], ['function', 20, 25], ['worker_out', 25, 30], ['link', 30, 40],
  ]);
});

test('cold starts: the part of each start after the call arrived is exposed; the policy hides the rest', () => {
  const [t] = joinTrees(chain('C', { cold: true, cold_spawn: s(5), cold_init: s(18) }).filter((r) => r.role === 'worker'));
  assert.deepEqual(coldStarts(t!), { boot: 13_000, exposed: 3_000 });
  const base = { mode: 'local', coordinator: 'worker', size: 4, connections: 1, requests: 5, errors: 0, incomplete: 0 } as const;
  const cell = (variant: string, boot: string, warm: boolean, p50: number) =>
    ({ ...base, variant, boot, warm, root_function_us: { n: 5, p50, p99: p50, mean: p50 }, cold_hops_per_request: 0, cold_boot_us: 0, cold_exposed_us: 0 }) as never;
  const hidden = coldHidden([cell('local warm', 'none', true, 1000), cell('local boot-none', 'none', false, 401_000), cell('local boot-next', 'next', false, 101_000)]);
  assert.deepEqual(hidden.map((h) => [h.policy, h.hidden_share]), [['none', 0], ['next', 0.75]]);
});
