import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileWorkflow, type Step } from './definition.js';
import { argsOf, runWorkflow, StepFailed, type StepRunner } from './engine.js';

/** A runner whose calls answer when the test says: it sees what ran when, never a clock. */
function manual(fns: Record<string, (args: Record<string, unknown>) => unknown>) {
  const log: string[] = [];
  const open = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const booted: string[] = [];
  const runner: StepRunner = {
    call(step: Step, args) {
      log.push(`start ${step.name}`);
      return new Promise((resolve, reject) => {
        open.set(step.name, {
          resolve: (v) => (log.push(`end ${step.name}`), resolve(v)),
          reject,
        });
        const fn = fns[step.fn];
        if (fn) {
          try {
            const v = fn(args);
            open.delete(step.name);
            log.push(`end ${step.name}`);
            resolve(v);
          } catch (e) {
            open.delete(step.name);
            reject(e);
          }
        }
      });
    },
    boot: (fn) => void booted.push(fn),
  };
  return { runner, log, open, booted };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a sequence passes each result on; args win over the data passed in', async () => {
  const wf = compileWorkflow('seq', { steps: ['inc', 'inc', { fn: 'inc', args: { by: 10 } }] });
  const { runner } = manual({ inc: (a) => ({ n: Number(a.n ?? 0) + Number(a.by ?? 1), by: 1 }) });
  assert.deepEqual(await runWorkflow(wf, { n: 5 }, runner), { n: 17, by: 1 });
});

test('a fan-out starts every branch before any answers; the fan-in waits for all and gets their items in order', async () => {
  const wf = compileWorkflow('fan', { steps: [{ parallel: [{ fn: 'slow', times: 4 }] }, 'join'] });
  const { runner, log, open } = manual({ join: (a) => a });
  const done = runWorkflow(wf, { x: 1 }, runner);
  await tick();
  assert.deepEqual(log, ['start steps[0].parallel[0]#1', 'start steps[0].parallel[0]#2', 'start steps[0].parallel[0]#3', 'start steps[0].parallel[0]#4']);
  // Answer out of order: the items keep the definition's order.
  for (const k of [3, 1, 4]) open.get(`steps[0].parallel[0]#${k}`)!.resolve({ k });
  await tick();
  assert.ok(!log.includes('start steps[1]'), 'the fan-in waits for every branch');
  open.get('steps[0].parallel[0]#2')!.resolve({ k: 2 });
  assert.deepEqual(await done, { items: [{ k: 1 }, { k: 2 }, { k: 3 }, { k: 4 }] });
});

test('a failing step fails the workflow with its code, naming the step; nothing after it starts', async () => {
  const wf = compileWorkflow('w', { steps: ['ok', { fn: 'boom', id: 'explode' }, 'ok'] });
  const { runner, log } = manual({
    ok: () => ({}),
    boom: () => {
      throw Object.assign(new Error('function boom failed: kaboom'), { code: 'function_error' });
    },
  });
  await assert.rejects(runWorkflow(wf, {}, runner), (e: Error) => {
    assert.ok(e instanceof StepFailed);
    assert.equal(e.code, 'function_error');
    assert.equal(e.step.name, 'explode');
    assert.equal(e.message, 'workflow w: step explode (boom) failed: function boom failed: kaboom');
    return true;
  });
  assert.deepEqual(log, ['start steps[0]', 'end steps[0]', 'start explode']);
});

test('a failing branch fails the fan-out at once; the others answering later change nothing', async () => {
  const wf = compileWorkflow('w', { steps: [{ parallel: ['slow', 'slow', { fn: 'bad', id: 'b' }] }, 'after'] });
  const { runner, open, log } = manual({});
  const done = runWorkflow(wf, {}, runner);
  await tick();
  open.get('b')!.reject(Object.assign(new Error('nope'), { code: 'bad_input' }));
  await assert.rejects(done, (e: StepFailed) => e.code === 'bad_input' && e.step.name === 'b');
  open.get('steps[0].parallel[0]')!.resolve(1);
  open.get('steps[0].parallel[1]')!.resolve(2);
  await tick();
  assert.ok(!log.includes('start steps[1]'));
});

test('an error without a code is a function_error; a runner that throws fails the step too', async () => {
  const wf = compileWorkflow('w', { steps: ['x'] });
  await assert.rejects(runWorkflow(wf, {}, { call: () => Promise.reject(new Error('plain')) }), (e: StepFailed) => e.code === 'function_error');
  await assert.rejects(
    runWorkflow(wf, {}, {
      call: () => {
        throw new Error('sync');
      },
    }),
    (e: StepFailed) => e.code === 'function_error' && /sync/.test(e.message),
  );
});

test('boot-ahead: next boots the steps after the one that starts (not the same function), all boots everything not started at once', async () => {
  const wf = compileWorkflow('c', { steps: ['f1', 'f2', 'f2', { parallel: ['f3', 'f4'] }] });
  const fns = { f1: () => ({}), f2: () => ({}), f3: () => ({}), f4: () => ({}) };
  const next = manual(fns);
  await runWorkflow(wf, {}, next.runner, 'next');
  assert.deepEqual(next.booted, ['f2', 'f3', 'f4']);
  const all = manual(fns);
  await runWorkflow(wf, {}, all.runner, 'all');
  assert.deepEqual(all.booted, ['f2', 'f3', 'f4']);
  const none = manual(fns);
  await runWorkflow(wf, {}, none.runner, 'none');
  assert.deepEqual(none.booted, []);
});

test('argsOf: a map is the args, anything else {value}', () => {
  const step = compileWorkflow('a', { steps: [{ fn: 'x', args: { k: 1 } }] }).steps[0]!;
  assert.deepEqual(argsOf(step, { a: 1, k: 0 }), { a: 1, k: 1 });
  assert.deepEqual(argsOf(step, [1, 2]), { value: [1, 2], k: 1 });
  const bytes = new Uint8Array([1]);
  assert.equal(argsOf(step, bytes).value, bytes);
  assert.deepEqual(argsOf(step, null), { value: null, k: 1 });
});
