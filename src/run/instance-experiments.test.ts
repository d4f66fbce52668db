/**
 * `faasbench run` with an instance experiment, end to end: a backoff run
 * whose keep-warm lies between its two gaps finds the threshold there, and
 * writes lifecycle.html beside the report; `faasbench analyze` on the same
 * records writes the same page.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../testing/processes.js';

test('a backoff run finds the expiry between the gap below --keep-warm and the one above', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-backoff-'));
  try {
    const config = join(dir, 'backoff.yaml');
    // Gaps well apart from the keep-warm either side: a busy machine delays a call, it does not shorten a gap.
    await writeFile(
      config,
      ['experiment: backoff', 'worker: ["--isolation", "thread", "--keep-warm", "600ms"]', 'frameworks: [node]', 'endpoints: [{ path: "/empty?instance=1" }]',
        'backoff: { gaps: [50ms, 2500ms], calls: 2 }', 'pinning: none', ''].join('\n'),
    );
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', config, '--out', out], { timeoutMs: 300_000 });
    assert.equal(r.code, 0, r.stderr);
    const figures = await readFile(join(out, 'report', 'lifecycle.json'), 'utf8');
    const data = JSON.parse(figures) as {
      gaps: { gap: string; calls: number; cold_fraction: number }[];
      threshold: unknown;
      cold_phases: { calls: number } | null;
    };
    assert.deepEqual(data.gaps.map((g) => [g.gap, g.calls, g.cold_fraction]), [['50ms', 2, 0], ['2500ms', 2, 1]]);
    assert.deepEqual(data.threshold, { warm_below: '50ms', cold_from: '2500ms' });
    assert.ok(data.cold_phases && data.cold_phases.calls >= 2, 'the cold calls are split into phases');
    const page = await readFile(join(out, 'report', 'lifecycle.html'), 'utf8');
    assert.match(page, /Instances expired between an idle gap of 50ms/);
    assert.match(r.stdout, /^instance figures: \S+lifecycle\.html$/m);

    const again = join(dir, 'again');
    const analyzed = await runCli(['analyze', out, '--out', again], { timeoutMs: 300_000 });
    assert.equal(analyzed.code, 0, analyzed.stderr);
    assert.equal(await readFile(join(again, 'lifecycle.json'), 'utf8'), figures);
    assert.equal(await readFile(join(again, 'lifecycle.html'), 'utf8'), page);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
