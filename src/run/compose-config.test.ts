import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileWorkflow } from '../workflow/definition.js';
import { depthOf } from '../workflow/engine.js';
import { loadConfig, validateConfig, type ComposeConfig } from './config.js';
import { planComposeCells, planVariants, workflowOf } from './compose-experiments.js';

const example = (name: string) => new URL(`../../../examples/${name}`, import.meta.url).pathname;

test('the shipped composition experiments load, and interleave their variants within each size', async () => {
  const chain = await loadConfig(example('compose-chain.yaml'));
  assert.deepEqual(planVariants(chain.compose!).map((v) => v.label), ['local', 'local coordinator-function', 'rpc', 'rpc coordinator-function', 'http', 'http coordinator-function']);
  const cells = planComposeCells(chain);
  assert.equal(cells.length, 2 * 5 * 2 * 6);
  assert.deepEqual(cells.slice(0, 7).map((c) => `${c.size}/${c.connections}/${c.variant.label}`), [
    '1/1/local', '1/1/local coordinator-function', '1/1/rpc', '1/1/rpc coordinator-function', '1/1/http', '1/1/http coordinator-function', '1/10/local',
  ]);
  const cold = await loadConfig(example('compose-cold.yaml'));
  assert.deepEqual(planVariants(cold.compose!).map((v) => [v.label, v.boot, v.warm]), [
    ['local warm', 'none', true], ['local boot-none', 'none', false], ['local boot-next', 'next', false], ['local boot-all', 'all', false],
  ]);
  // A cold cell is one chain at a time.
  assert.ok(planComposeCells(cold).every((c) => c.connections === 1 && c.requests === 10));
  for (const f of ['compose-fanout.yaml', 'compose-payload.yaml']) assert.ok(planComposeCells(await loadConfig(example(f))).length > 0);
});

test('each shape writes a workflow of the planned structure', () => {
  const shape = (c: Partial<ComposeConfig>, size: number) => {
    const wf = workflowOf({ shape: 'chain', sizes: [size], ...c } as ComposeConfig, size);
    const compiled = compileWorkflow(wf.name, wf.definition);
    return { path: wf.path, steps: compiled.steps.length, depth: depthOf(compiled), fns: [...compiled.calls] };
  };
  assert.deepEqual(shape({ shape: 'chain' }, 8), { path: '/chain-8', steps: 8, depth: 8, fns: ['empty'] });
  assert.deepEqual(shape({ shape: 'fanout', fn: 'sleep', args: { ms: 10 } }, 16), { path: '/fan-16', steps: 17, depth: 2, fns: ['sleep', 'empty'] });
  assert.deepEqual(shape({ shape: 'payload', length: 4 }, 1024), { path: '/carry-4?bytes=1024', steps: 4, depth: 4, fns: ['source', 'echo', 'sink'] });
  assert.deepEqual(shape({ shape: 'payload', length: 2 }, 1024).fns, ['source', 'sink']);
  assert.deepEqual(shape({ shape: 'cold' }, 3), { path: '/cold-3', steps: 3, depth: 3, fns: ['step-1', 'step-2', 'step-3'] });
});

test('bad composition configs are refused in one line naming the key', () => {
  const refused = (raw: unknown, pattern: RegExp) => assert.throws(() => validateConfig(raw), (e: Error) => pattern.test(e.message) && !e.message.includes('\n'));
  refused({ experiment: 'compose' }, /^config: compose\.shape must be chain, fanout, payload or cold \(required by experiment: compose\)$/);
  refused({ experiment: 'compose', compose: { shape: 'chain' } }, /compose\.sizes is required/);
  refused({ experiment: 'compose', compose: { shape: 'ring', sizes: [1] } }, /compose\.shape must be one of chain, fanout, payload, cold/);
  refused({ experiment: 'compose', compose: { shape: 'chain', sizes: [1], modes: ['udp'] } }, /compose\.modes\[0\] must be one of local, rpc, http/);
  refused({ experiment: 'compose', compose: { shape: 'chain', sizes: [2000] } }, /compose\.sizes must be from 1 to 1000 for shape chain/);
  refused({ experiment: 'compose', frameworks: ['tcp'], compose: { shape: 'chain', sizes: [1] } }, /frameworks\[0\] must be an HTTP framework/);
  refused({ experiment: 'compose', compose: { shape: 'cold', sizes: [2] } }, /^config: worker must give instances for compose.shape cold/);
  refused({ experiment: 'compose', worker: ['--isolation', 'thread'], compose: { shape: 'cold', sizes: [2] } }, /--keep-warm below compose.gap \(400ms\)/);
  refused({ experiment: 'compose', worker: ['--keep-warm=1s'], compose: { shape: 'cold', sizes: [2], gap: '500ms' } }, /--keep-warm below compose.gap \(500ms\)/);
  refused({ experiment: 'compose', workers: [1, 2], compose: { shape: 'chain', sizes: [1] } }, /must be one setting with experiment: compose/);
  assert.equal(validateConfig({ experiment: 'compose', worker: ['--keep-warm=100ms'], compose: { shape: 'cold', sizes: [2] } }).compose!.shape, 'cold');
});
