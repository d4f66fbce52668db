/**
 * Gzipped records and requests.csv.gz: written by the roles' own record
 * writer, read back by analyze with the same figures as plain NDJSON.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { requestLines, writeRecordDir } from '../testing/analysis-records.js';
import { openRecordSink } from '../trace/record-writer.js';
import { analyze } from './analyze.js';
import { AnalysisInputError } from './read/inputs.js';
import { seededRandom } from './compute/random.js';
import type { Summary } from './compute/summary-types.js';

function records(count: number) {
  const random = seededRandom(5);
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  let at = 0n;
  for (let k = 0; k < count; k++) {
    const fn = k % 3 ? 'empty' : 'math';
    const respond = BigInt(5_000 + Math.floor(random() * 80_000));
    const r = requestLines({ id: `z${k}`, at, framework: k % 2 ? 'hono' : 'node', fn, d: { function: BigInt(1_000 + Math.floor(random() * 90_000)), respond } });
    for (const role of ['caller', 'gateway', 'worker'] as const) lines[role].push(r[role]);
    at += 400_000n;
  }
  return lines;
}

/** The same lines through the roles' record writer into ROLE.ndjson.gz. */
async function writeGzipped(dir: string, lines: Record<'caller' | 'gateway' | 'worker', string[]>) {
  for (const role of ['caller', 'gateway', 'worker'] as const) {
    const sink = openRecordSink(join(dir, `${role}.ndjson.gz`));
    for (const line of lines[role]) sink.write(`${line}\n`);
    await sink.close();
  }
}

/** What does not depend on where the records came from. */
const figures = (s: Summary) => ({ ...s, generated_at: null, inputs: null });

test('gzipped records give the same figures and the same CSV as plain ones', async () => {
  const lines = records(1500);
  const plain = await writeRecordDir(lines);
  const gz = await writeRecordDir({ caller: [], gateway: [], worker: [] });
  try {
    await Promise.all(['caller', 'gateway', 'worker'].map((role) => rm(join(gz, `${role}.ndjson`))));
    await writeGzipped(gz, lines);
    // Several 64 KiB chunks, so several gzip members, and far smaller than the text.
    const caller = readFileSync(join(gz, 'caller.ndjson.gz'));
    assert.equal(gunzipSync(caller).toString(), lines.caller.map((l) => `${l}\n`).join(''));
    assert.ok(caller.length * 4 < statSync(join(plain, 'caller.ndjson')).size, `${caller.length} bytes gzipped`);

    const a = await analyze({ inputs: [plain], resamples: 200, csv: true });
    const b = await analyze({ inputs: [gz], resamples: 200, compress: true, csv: true });
    assert.equal(b.files.csv, join(gz, 'report', 'requests.csv.gz'));
    assert.equal(a.summary.records.by_role.caller, 1500);
    assert.equal(a.summary.groups.length, 4);
    assert.deepEqual(figures(b.summary), figures(a.summary));
    assert.equal(gunzipSync(readFileSync(b.files.csv!)).toString(), readFileSync(a.files.csv!, 'utf8'));
  } finally {
    await rm(plain, { recursive: true, force: true });
    await rm(gz, { recursive: true, force: true });
  }
});

test('a gzip file cut short counts up to its last whole member and is named; one that is not gzip is refused', async () => {
  const dir = await writeRecordDir({ caller: [], gateway: [], worker: [] });
  try {
    await Promise.all(['caller', 'gateway', 'worker'].map((role) => rm(join(dir, `${role}.ndjson`))));
    await writeGzipped(dir, records(1500));
    const file = join(dir, 'caller.ndjson.gz');
    truncateSync(file, statSync(file).size - 20);
    const { summary } = await analyze({ inputs: [dir], resamples: 200, csv: false });
    assert.ok(summary.records.by_role.caller > 0 && summary.records.by_role.caller < 1500, `${summary.records.by_role.caller} caller records`);
    assert.match(summary.warnings[0]!, /end in the middle of a line.*caller\.ndjson\.gz/);

    writeFileSync(file, 'not gzip\n');
    await assert.rejects(analyze({ inputs: [dir], csv: false }), (e: Error) => e instanceof AnalysisInputError && /caller\.ndjson\.gz is not a readable gzip file/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
