/**
 * The replica experiment: a run config that steps the number of local
 * workers and the balancing policy, run for real (`faasbench run`), and the
 * report's figure per worker count and policy.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Summary } from '../analysis/compute/summary-types.js';
import { BALANCE_POLICIES } from '../rpc/balance.js';
import { runCli } from '../testing/processes.js';
import { planSteps, validateConfig } from './config.js';

test('workers and balance: a count or a list each; steps go count by count, policies within', async () => {
  const c = validateConfig({ workers: [1, 3], balance: ['round-robin', 'p2c'] });
  assert.deepEqual(planSteps(c), [
    { workers: 1, balance: 'round-robin' },
    { workers: 1, balance: 'p2c' },
    { workers: 3, balance: 'round-robin' },
    { workers: 3, balance: 'p2c' },
  ]);
  assert.deepEqual(planSteps(validateConfig({})), [{ workers: 1, balance: 'round-robin' }]);
  const schema = JSON.parse(await readFile(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8')) as { definitions: { balance: { enum: string[] } } };
  assert.deepEqual(schema.definitions.balance.enum, [...BALANCE_POLICIES], 'the schema knows every policy');
  for (const bad of [{ workers: 0 }, { workers: [] }, { workers: 17 }, { workers: 1.5 }, { balance: 'random' }, { balance: [] }]) {
    assert.throws(() => validateConfig(bad), new RegExp(Object.keys(bad)[0]!));
  }
  // Backoff and interference run no cells to step.
  assert.throws(() => validateConfig({ experiment: 'backoff', backoff: { gaps: ['1s'], calls: 1 }, workers: [1, 2] }), /workers must be one setting/);
  assert.throws(() => validateConfig({ experiment: 'interference', interference: { faults: ['throw'], phase: '1s' }, balance: ['p2c', 'round-robin'] }), /balance must be one setting/);

});

test('faasbench run steps the worker count and policy; the report plots throughput and latency per step', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-replicas-'));
  try {
    const config = join(dir, 'replicas.json');
    await writeFile(config, JSON.stringify({
      frameworks: ['node'],
      endpoints: [{ path: '/empty' }],
      connections: 4,
      requests: 80,
      warmup: '50ms',
      rounds: 1,
      pinning: 'none',
      workers: [1, 2],
      balance: ['round-robin', 'least-outstanding'],
    }));
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', config, '--out', out], { timeoutMs: 280_000 });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(await readFile(join(out, 'report', 'summary.json'), 'utf8')) as Summary;
    const steps = summary.scale.replicas.map((p) => [p.workers, p.balance, p.workers_used, p.measured]);
    assert.deepEqual(steps.sort(), [
      [1, 'least-outstanding', 1, 80],
      [1, 'round-robin', 1, 80],
      [2, 'least-outstanding', 2, 80],
      [2, 'round-robin', 2, 80],
    ]);
    // Round-robin alternates over the two workers: an even split, give or take the one call the warm-up ended on.
    const even = summary.scale.replicas.find((p) => p.workers === 2 && p.balance === 'round-robin')!;
    assert.ok(even.max_over_mean * 40 - 40 <= 1, String(even.max_over_mean));
    assert.equal(summary.joins.measured, 4 * 80);
    // run.json lists every process the run started: two workers, and each step's gateway.
    const meta = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')) as { processes: { args: string }[] };
    assert.equal(meta.processes.filter((p) => p.args.includes('worker --port')).length, 2);
    assert.equal(meta.processes.filter((p) => p.args.includes('gateway --framework')).length, 4);
    const html = await readFile(join(out, 'report', 'report.html'), 'utf8');
    const section = html.slice(html.indexOf('Scale-out'));
    assert.match(section, /Throughput and latency per worker count and policy[\s\S]*?<svg/);
    assert.match(section, /Per worker/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
