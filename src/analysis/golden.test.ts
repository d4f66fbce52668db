/**
 * The analysis' outputs, pinned: the benchmark's generator (src/bench/analysis-bench.ts, seed 7)
 * writes 100,000 requests (two runs, every endpoint × framework cell in each), the real
 * `faasbench analyze` reads them, and summary.json must deep-equal the golden one, number for
 * number; report.html and requests.parquet must hash the same. The golden file was written by the
 * analysis as it stood before the speed work of issue 32 (main at 8e55762), so a faster analysis
 * that changes any figure fails here.
 *
 * What legitimately varies and is masked: summary.generated_at and faasbench_version, the temp
 * directory in every path (inputs.paths, inputs.files[].path, runs), and the report's "Generated
 * <time> by faasbench <version> from <dir>" line.
 *
 * To re-pin after an intended change of figures: FAASBENCH_WRITE_GOLDEN=1 node --test dist/src/analysis/golden.test.js
 * (and say in the commit which figures changed, and why).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { generateRecords } from '../bench/analysis-bench.js';
import { CLI } from '../testing/processes.js';

const REQUESTS = 100_000;
const SEED = 7;
const GOLDEN = fileURLToPath(new URL('../../../src/analysis/golden/analysis-100k.json.gz', import.meta.url));

interface Golden {
  requests: number;
  seed: number;
  summary: unknown;
  report_sha256: string;
  parquet_sha256: string;
}

/** Replaces every occurrence of the temp directory, and drops what changes from run to run. */
function normalizeSummary(text: string, dir: string): unknown {
  const summary = JSON.parse(text.split(dir).join('<dir>')) as Record<string, unknown>;
  assert.equal(typeof summary.generated_at, 'string');
  assert.equal(typeof summary.faasbench_version, 'string');
  delete summary.generated_at;
  delete summary.faasbench_version;
  return summary;
}

function normalizeReport(html: string, dir: string): string {
  const masked = html.replace(/Generated \S+ by faasbench \S+ from/g, 'Generated <time> by faasbench <version> from');
  assert.notEqual(masked, html, 'the report names when and by what it was generated');
  return masked.split(dir).join('<dir>');
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

test('analyze on 100,000 generated requests: summary.json deep-equals the golden one; report and Parquet hash the same', { timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-golden-'));
  try {
    const gen = await generateRecords(join(dir, 'records'), REQUESTS, SEED);
    assert.equal(gen.requests, REQUESTS);
    const out = join(dir, 'report');
    const child = spawn(process.execPath, [CLI, 'analyze', join(dir, 'records'), '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);

    const got: Golden = {
      requests: REQUESTS,
      seed: SEED,
      summary: normalizeSummary(await readFile(join(out, 'summary.json'), 'utf8'), dir),
      report_sha256: sha256(normalizeReport(await readFile(join(out, 'report.html'), 'utf8'), dir)),
      parquet_sha256: sha256(await readFile(join(out, 'requests.parquet'))),
    };
    if (process.env.FAASBENCH_WRITE_GOLDEN === '1') {
      await writeFile(GOLDEN, gzipSync(JSON.stringify(got, null, 1) + '\n', { level: 9 }));
      return;
    }
    const golden = JSON.parse(gunzipSync(await readFile(GOLDEN)).toString('utf8')) as Golden;
    assert.equal(golden.requests, REQUESTS);
    assert.equal(golden.seed, SEED);
    // Numbers go through JSON both ways, so deep equality is equality of every digit written.
    assert.deepStrictEqual(got.summary, golden.summary);
    assert.equal(got.report_sha256, golden.report_sha256, 'report.html differs from the golden run');
    assert.equal(got.parquet_sha256, golden.parquet_sha256, 'requests.parquet differs from the golden run');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
