/**
 * `faasbench scaler --config`: the policy's parameters come from the config's
 * `scaling` section (read and checked by src/config-file.ts, as `run` reads
 * it), and a bad config is one line and exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../testing/processes.js';

const POOL = '127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103';
const phases = '  phases: [{ connections: 1, duration: 1s }]\n';

test('scaler --config: scaling.fixed.workers sets the fleet; a bad section is one line, exit 2', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-scaler-config-'));
  try {
    const workersFile = join(dir, 'workers');
    const scaler = (config: string) => runCli(['scaler', '--policy', 'fixed', '--workers-file', workersFile, '--pool', POOL, '--config', config], { signalWhen: /scaler running/, timeoutMs: 60_000 });

    const good = join(dir, 'good.yaml');
    await writeFile(good, `experiment: scaling\nscaling:\n  policies: [fixed]\n${phases}  fixed: { workers: 2 }\n`);
    const r = await scaler(good);
    assert.match(r.stderr, /scaler running/, r.stderr);
    assert.deepEqual((await readFile(workersFile, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')), ['127.0.0.1:7101', '127.0.0.1:7102']);

    const refused: Array<[string, RegExp]> = [
      [`scaling:\n  policies: [fixed]\n${phases}  min: 3\n  max: 2\n`, /scaling\.min must not exceed scaling\.max \(2\)/],
      [`scaling:\n  policies: [magic]\n${phases}`, /scaling\.policies\[0\] must be one of fixed, concurrency, alert/],
      ['scaling: [unclosed\n', /is not valid YAML/],
    ];
    for (const [i, [text, message]] of refused.entries()) {
      const file = join(dir, `bad-${i}.yaml`);
      await writeFile(file, text);
      const bad = await scaler(file);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
      assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
    }
    const missing = await scaler(join(dir, 'absent.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the config/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
