import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkWorkflowCycles, compileWorkflow, loadWorkflows, WorkflowError, type Workflow } from './definition.js';
import { depthOf } from './engine.js';

test('a sequence: each step reads the one before, the first the input', () => {
  const wf = compileWorkflow('seq', { steps: ['a', { fn: 'b', args: { x: 1 } }, { fn: 'c', id: 'last' }] });
  assert.deepEqual(
    wf.steps.map((s) => [s.name, s.fn, s.deps, s.next]),
    [
      ['steps[0]', 'a', [], [1]],
      ['steps[1]', 'b', [0], [2]],
      ['last', 'c', [1], []],
    ],
  );
  assert.deepEqual(wf.steps[0]!.input, { input: true });
  assert.deepEqual(wf.steps[1]!.args, { x: 1 });
  assert.deepEqual(wf.output, { step: 2 });
  assert.equal(depthOf(wf), 3);
});

test('a fan-out and fan-in: the branches read the same data, the next step their items', () => {
  const wf = compileWorkflow('fan', { steps: ['split', { parallel: [{ fn: 'work', times: 3 }, 'other'] }, 'join'] });
  assert.deepEqual(
    wf.steps.map((s) => s.name),
    ['steps[0]', 'steps[1].parallel[0]#1', 'steps[1].parallel[0]#2', 'steps[1].parallel[0]#3', 'steps[1].parallel[1]', 'steps[2]'],
  );
  for (const s of wf.steps.slice(1, 5)) assert.deepEqual(s.deps, [0]);
  assert.deepEqual(wf.steps[5]!.input, { items: [{ step: 1 }, { step: 2 }, { step: 3 }, { step: 4 }] });
  assert.deepEqual(wf.steps[5]!.deps, [1, 2, 3, 4]);
  assert.deepEqual(wf.steps[0]!.next, [1, 2, 3, 4]);
  assert.equal(depthOf(wf), 3);
  assert.deepEqual([...wf.calls].sort(), ['join', 'other', 'split', 'work']);
});

test('times on a sequence repeats it in place', () => {
  const wf = compileWorkflow('rep', { steps: [{ sequence: ['a', 'b'], times: 2 }] });
  assert.deepEqual(
    wf.steps.map((s) => [s.name, s.fn, s.deps]),
    [
      ['steps[0]#1.sequence[0]', 'a', []],
      ['steps[0]#1.sequence[1]', 'b', [0]],
      ['steps[0]#2.sequence[0]', 'a', [1]],
      ['steps[0]#2.sequence[1]', 'b', [2]],
    ],
  );
  // An id inside a repeated block would name two steps.
  assert.throws(() => compileWorkflow('rep', { steps: [{ sequence: [{ fn: 'a', id: 'x' }], times: 2 }] }), /step id "x" is used twice/);
  assert.deepEqual(compileWorkflow('ids', { steps: [{ fn: 'a', id: 'x', times: 2 }] }).steps.map((s) => s.name), ['x#1', 'x#2']);
});

test('a workflow that ends in a parallel block answers its items', () => {
  const wf = compileWorkflow('p', { steps: [{ parallel: ['a', 'b'] }] });
  assert.deepEqual(wf.output, { items: [{ step: 0 }, { step: 1 }] });
  assert.equal(depthOf(wf), 1);
});

test('bad definitions are refused in one line naming the workflow and the key', () => {
  const refused = (raw: unknown, pattern: RegExp) => assert.throws(() => compileWorkflow('w', raw), (e: Error) => e instanceof WorkflowError && pattern.test(e.message) && !e.message.includes('\n'));
  refused({}, /^workflow w: steps is required/);
  refused({ steps: [] }, /^workflow w: steps must be/);
  refused({ steps: ['Bad Name'] }, /^workflow w: steps\[0\] must be a step/);
  refused({ steps: [{ fn: 'a', tims: 2 }] }, /^workflow w: steps\[0\] must be/);
  refused({ steps: [{ fn: 'a', times: 0 }] }, /^workflow w: steps\[0\] must be/);
  refused({ steps: ['a'], extra: 1 }, /unknown key "extra"/);
  refused({ steps: [{ fn: 'a', id: 'x' }, { fn: 'b', id: 'x' }] }, /step id "x" is used twice/);
  refused({ steps: [{ fn: 'a', times: 1000 }, { parallel: [{ fn: 'b', times: 1000 }], times: 1000 }] }, /more than 10000 steps/);
  assert.throws(() => compileWorkflow('Bad', { steps: ['a'] }), /workflow name "Bad"/);
});

test('a cycle through workflow names is refused, naming it', () => {
  const wfs = new Map<string, Workflow>([
    ['a', compileWorkflow('a', { steps: ['empty', 'b'] })],
    ['b', compileWorkflow('b', { steps: [{ parallel: ['c', 'empty'] }] })],
    ['c', compileWorkflow('c', { steps: ['a'] })],
    ['d', compileWorkflow('d', { steps: ['a'] })],
  ]);
  assert.throws(() => checkWorkflowCycles(wfs), /^WorkflowError: workflow a calls itself: a → b → c → a$|workflow a calls itself: a → b → c → a/);
  wfs.delete('c');
  checkWorkflowCycles(wfs);
  const self = new Map([['s', compileWorkflow('s', { steps: ['s'] })]]);
  assert.throws(() => checkWorkflowCycles(self), /workflow s calls itself: s → s/);
});

test('loadWorkflows reads YAML and JSON by extension, and names a bad file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-wf-'));
  try {
    await writeFile(join(dir, 'one.yaml'), 'description: two empties\nsteps: [empty, empty]\n');
    await writeFile(join(dir, 'two.json'), JSON.stringify({ steps: [{ parallel: ['empty', 'one'] }] }));
    await writeFile(join(dir, 'notes.txt'), 'not a workflow');
    const wfs = await loadWorkflows(dir);
    assert.deepEqual([...wfs.keys()], ['one', 'two']);
    assert.equal(wfs.get('one')!.description, 'two empties');
    await writeFile(join(dir, 'bad.yaml'), 'steps: [empty\n');
    await assert.rejects(loadWorkflows(dir), /^WorkflowError: workflow bad: bad.yaml is not valid YAML/);
    await rm(join(dir, 'bad.yaml'));
    await writeFile(join(dir, 'one.json'), JSON.stringify({ steps: ['empty'] }));
    await assert.rejects(loadWorkflows(dir), /workflow one is defined twice/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(loadWorkflows(join(dir, 'gone')), /cannot read the workflows directory/);
});
