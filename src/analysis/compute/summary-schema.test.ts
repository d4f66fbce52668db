/** summary.json against its published schema, schemas/summary.schema.json. */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { requestLines, writeRecordDir } from '../../testing/analysis-records.js';
import { schemaValidator } from '../../schemas.js';
import { analyze } from '../analyze.js';

test('summary.json of an analysis with a sweep and a comparison meets its schema; a wrong figure is named', async () => {
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  for (let k = 0; k < 800; k++) {
    const r = requestLines({
      id: `v${k}`,
      at: BigInt(k) * 500_000n,
      framework: k % 2 ? 'koa' : 'node',
      fn: k % 4 < 2 ? 'empty' : 'sleep',
      connections: k < 400 ? 1 : 8,
      warmup: k % 50 === 0,
      d: { respond: BigInt(10_000 + (k % 7) * 3_000) },
    });
    for (const role of ['caller', 'gateway', 'worker'] as const) lines[role].push(r[role]);
  }
  const dir = await writeRecordDir(lines);
  try {
    const { summary } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
    assert.ok(summary.comparisons.length > 0 && summary.sweep !== null && summary.cells.length === 8, 'every part is filled');
    const validate = schemaValidator('summary');
    assert.equal(validate(JSON.parse(JSON.stringify(summary))), null);

    const broken = JSON.parse(JSON.stringify(summary)) as { groups: { stages: { roundtrip: { p50: unknown } } }[] };
    broken.groups[1]!.stages.roundtrip.p50 = 'fast';
    assert.match(validate(broken) ?? '', /^groups\[1\]\.stages\.roundtrip\.p50 must be a number, or null where it could not be computed, got "fast"$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
