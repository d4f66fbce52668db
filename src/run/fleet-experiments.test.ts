/**
 * The fleet experiments through `faasbench run --config`, shortened: their
 * config checks, and each run for real with its fleet page. What is
 * asserted holds on any machine: counts and orderings from the records,
 * never a time.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FailoverRun, GreyRun, ScalingRun } from '../analysis/compute/fleet-experiments.js';
import { runCli } from '../testing/processes.js';
import { validateConfig } from './config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fb-fleet-run-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the fleet experiments\' configs: their section required, one worker count, a kill within the run', () => {
  const phases = [{ connections: 1, duration: '1s' }];
  assert.throws(() => validateConfig({ experiment: 'scaling' }), /scaling is required by experiment: scaling/);
  assert.throws(() => validateConfig({ experiment: 'scaling', scaling: { policies: ['fixed'], phases }, workers: [1, 2] }), /workers must be one count/);
  assert.throws(() => validateConfig({ experiment: 'scaling', scaling: { policies: ['magic'], phases } }), /scaling\.policies\[0\] must be one of fixed, concurrency, alert/);
  assert.throws(() => validateConfig({ experiment: 'scaling', scaling: { policies: ['fixed'], phases, min: 3, max: 2 } }), /scaling\.min must not exceed/);
  assert.throws(() => validateConfig({ experiment: 'failover', workers: 3, failover: { duration: '2s', killAfter: '2s' } }), /killAfter must be shorter/);
  assert.throws(() => validateConfig({ experiment: 'failover', workers: 1, failover: { duration: '2s', killAfter: '1s' } }), /workers must be at least 2/);
  assert.throws(() => validateConfig({ experiment: 'failover', workers: 3, balance: ['p2c', 'round-robin'], failover: { duration: '2s', killAfter: '1s' } }), /balance must be one policy/);
  assert.doesNotThrow(() => validateConfig({ experiment: 'grey', workers: 3, balance: ['p2c', 'round-robin'], grey: { duration: '2s' } }));
});

async function run(name: string, config: object) {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify({ frameworks: ['node'], timeout: '10s', pinning: 'none', ...config }));
  const out = join(dir, name);
  const r = await runCli(['run', '--config', file, '--out', out], { timeoutMs: 280_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /fleet figures: .*fleet\.html/);
  assert.match(await readFile(join(out, 'fleet.html'), 'utf8'), /<svg/);
  return JSON.parse(await readFile(join(out, 'fleet.json'), 'utf8')) as Record<string, unknown>;
}

test('failover: a SIGKILLed worker costs at most its calls in flight; with retries, nothing', { timeout: 300_000 }, async () => {
  const data = await run('failover', {
    experiment: 'failover',
    endpoints: [{ path: '/sleep?ms=20' }],
    workers: 3,
    connections: 8,
    failover: { duration: '3s', killAfter: '1s', retries: [false, true] },
  });
  const [off, on] = data.failover as FailoverRun[];
  assert.equal(off!.retries, false);
  assert.ok(off!.detected_ms !== null && off!.detected_ms >= 0, 'the gateway noticed');
  assert.equal(off!.failed_elsewhere, 0, 'no call failed on another worker');
  assert.ok(off!.errors <= off!.in_flight_at_loss, `${off!.errors} failed, ${off!.in_flight_at_loss} were in flight on it`);
  assert.equal(off!.errors, off!.failed_on_victim);
  assert.ok(off!.after.requests > 0 && off!.after.errors === 0, 'served on after the loss');
  assert.equal(on!.errors, 0, 'retried: nothing lost');
  assert.ok(on!.retried >= 1 && on!.retried <= on!.in_flight_at_loss, `${on!.retried} retried`);
});

test('scaling: the fixed fleet stays, the concurrency policy adds workers on the step and they take calls', { timeout: 300_000 }, async () => {
  const data = await run('scaling', {
    experiment: 'scaling',
    endpoints: [{ path: '/sleep?ms=50' }],
    worker: ['--isolation', 'inline'],
    scaling: {
      policies: ['fixed', 'concurrency'],
      // Long enough for a worker to start on a busy machine: the step lasts until the added worker has answered (asserted below).
      phases: [{ connections: 1, duration: '2s' }, { connections: 16, duration: '15s' }, { connections: 1, duration: '1s' }],
      min: 1,
      max: 3,
      concurrency: { target: 4, utilization: 1, stableWindow: '4s', tick: '250ms' },
    },
  });
  const [fixed, concurrency] = data.scaling as ScalingRun[];
  assert.equal(fixed!.policy, 'fixed');
  assert.equal(fixed!.total.max_active, 1);
  assert.equal(fixed!.reaction.decided_s, null);
  // 16 in flight over a target of 4 wants the most allowed, 3; a machine slow to start workers may end the step at 2.
  assert.ok(concurrency!.total.max_active >= 2 && concurrency!.total.max_active <= 3, String(concurrency!.total.max_active));
  assert.ok(concurrency!.reaction.decided_s !== null && concurrency!.reaction.decided_s >= 0);
  assert.ok(concurrency!.reaction.serving_s !== null && concurrency!.reaction.serving_s >= concurrency!.reaction.decided_s!, 'an added worker answered after the decision');
  assert.equal(fixed!.total.errors + concurrency!.total.errors, 0, 'scaling failed no call');
});

test('grey: with ejection, the slow worker is ejected and takes a smaller share', { timeout: 300_000 }, async () => {
  const data = await run('grey', {
    experiment: 'grey',
    endpoints: [{ path: '/sleep?ms=20' }],
    workers: 3,
    connections: 6,
    balance: 'round-robin',
    grey: { slowdown: 10, duration: '3s', ejection: [false, true], gateway: ['--eject-after', '3', '--eject-slow-ms', '100', '--ejection-time-ms', '60000'] },
  });
  const [plain, ejecting] = data.grey as GreyRun[];
  assert.equal(plain!.ejections, 0);
  assert.ok(plain!.slow_share > 0.3, `round-robin gives it its third: ${plain!.slow_share}`);
  assert.equal(ejecting!.ejections, 1);
  assert.ok(ejecting!.slow_share < plain!.slow_share);
  assert.equal(plain!.errors + ejecting!.errors, 0);
});
