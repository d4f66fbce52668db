import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childId, formatCallHeader, parseCallHeader, refuseNested } from './composition.js';

test('the call header round-trips, and a malformed one is refused in one line', () => {
  const n = { parent: 'c1a-7.2', depth: 2, budgetMs: 29500, workflows: ['outer', 'inner'] };
  assert.equal(formatCallHeader(n), 'parent=c1a-7.2; depth=2; budget=29500; workflows=outer,inner');
  assert.deepEqual(parseCallHeader(formatCallHeader(n)), n);
  assert.deepEqual(parseCallHeader(formatCallHeader({ ...n, workflows: [], budgetMs: 12.7 })), { ...n, workflows: [], budgetMs: 12 });
  assert.equal(parseCallHeader(undefined), null);
  for (const bad of ['parent', 'parent=a b; depth=1; budget=1', 'parent=a; depth=0; budget=1', 'parent=a; depth=1; budget=-1', 'parent=a; depth=1; budget=1; workflows=A']) {
    assert.throws(() => parseCallHeader(bad), (e: Error) => /^x-faasbench-call/.test(e.message) && !e.message.includes('\n'), bad);
  }
  assert.throws(() => parseCallHeader(['a', 'b']), /more than once/);
});

test('a call too deep, or a workflow on its own path, is refused with its code', () => {
  const limits = { maxDepth: 3, isWorkflow: (f: string) => f.startsWith('wf') };
  const at = (depth: number, workflows: string[] = []) => ({ parent: 'R', depth, budgetMs: 1000, workflows });
  assert.equal(refuseNested('empty', at(3), limits), null);
  assert.equal(refuseNested('empty', at(4), limits)?.code, 'call_depth_exceeded');
  assert.match(refuseNested('empty', at(4), limits)!.message, /at depth 4, over the limit of 3 \(--max-call-depth\)/);
  assert.deepEqual(refuseNested('wf-a', at(2, ['wf-a', 'wf-b']), limits), { code: 'call_cycle', message: 'workflow wf-a would call itself: wf-a → wf-b → wf-a' });
  // Recursion of a plain function is bounded by depth alone.
  assert.equal(refuseNested('empty', at(2, ['wf-a']), limits), null);
  assert.equal(childId('R.1', 3), 'R.1.3');
});
