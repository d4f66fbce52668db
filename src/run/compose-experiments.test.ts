/**
 * `faasbench run` with a composition experiment, end to end: the shipped
 * chain config cut to two sizes, two modes and one round starts a worker and
 * a gateway per variant, drives the workflows with the real caller, joins
 * the real records into trees, and writes compose.html and compose.json
 * (in report/, beside lifecycle.html's place); `faasbench analyze` of the
 * records directory alone writes the same page.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../testing/processes.js';

test('run --config examples/compose-chain.yaml (shortened) writes the composition figures from joined trees', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-compose-run-'));
  try {
    const shipped = parse(await readFile(new URL('../../../examples/compose-chain.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
    const config = {
      ...shipped,
      compose: { ...(shipped.compose as object), sizes: [1, 4], modes: ['local', 'http'], coordinators: ['worker', 'function'] },
      connections: [1],
      requests: 15,
      warmup: '0ms',
      rounds: 1,
    };
    const file = join(dir, 'chain.json');
    await writeFile(file, JSON.stringify(config));
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', file, '--out', out], { timeoutMs: 500_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^composition figures: \S+report\/compose\.html$/m);
    const data = JSON.parse(await readFile(join(out, 'report', 'compose.json'), 'utf8')) as {
      cells: { variant: string; size: number; requests: number; errors: number; incomplete: number; critical_path_hops: number; overhead_per_hop_us: { n: number; p50: number } }[];
      waterfalls: Record<string, { rows: unknown[] }>;
    };
    assert.deepEqual(
      data.cells.map((c) => `${c.variant} ${c.size}`).sort(),
      ['http 1', 'http 4', 'http coordinator-function 1', 'http coordinator-function 4', 'local 1', 'local 4', 'local coordinator-function 1', 'local coordinator-function 4'],
    );
    for (const c of data.cells) {
      assert.equal(c.requests, 15, `${c.variant} ${c.size}: every request joined into a complete tree`);
      assert.equal(c.errors, 0);
      assert.equal(c.incomplete, 0);
      // A chain: every hop on the critical path.
      assert.equal(c.critical_path_hops, c.size, `${c.variant} ${c.size}`);
      assert.equal(c.overhead_per_hop_us.n, 15);
      assert.ok(c.overhead_per_hop_us.p50 > 0, `${c.variant} ${c.size}: a hop costs something`);
    }
    // One waterfall per variant: the chain of 4, a row per hop and the root.
    for (const v of ['local', 'http', 'local coordinator-function', 'http coordinator-function']) assert.ok((data.waterfalls[v]?.rows.length ?? 0) >= 4, v);
    const page = await readFile(join(out, 'report', 'compose.html'), 'utf8');
    assert.match(page, /Composition overhead per hop/);
    assert.match(page, /<svg/);

    // The records alone, as a user analyses a run again: the same cells.
    const alone = join(dir, 'alone');
    const a = await runCli(['analyze', out, '--out', alone], { timeoutMs: 300_000 });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^composition figures: \S+alone\/compose\.html$/m, 'analyze names the page it wrote');
    const again = JSON.parse(await readFile(join(alone, 'compose.json'), 'utf8')) as typeof data;
    assert.deepEqual(again.cells.map((c) => [c.variant, c.size, c.requests]), data.cells.map((c) => [c.variant, c.size, c.requests]));
    assert.match(await readFile(join(alone, 'compose.html'), 'utf8'), /Composition overhead per hop/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
