/**
 * requests.parquet holds exactly what requests.csv holds: the same rows and,
 * per column, the Parquet type of PARQUET_COLUMNS, null where the CSV cell is
 * empty, and the same value (stamps as exact INT64 beyond 2^53). Read back
 * with hyparquet, a reader independent of the writer's encoding code; the run
 * test reads it with pyarrow too (scripts/check-parquet.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { analyze } from '../analyze.js';
import { generateRecords } from '../../bench/analysis-bench.js';
import { PARQUET_COLUMNS } from './parquet.js';

/** RFC 4180 rows (fields quoted only when needed, as csv.ts writes them). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

async function readParquet(path: string) {
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  // hyparquet decompresses GZIP with what it is given.
  const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
  return { metadata: parquetMetadata(file), rows: (await parquetReadObjects({ file, compressors })) as Record<string, unknown>[] };
}

test('requests.parquet equals requests.csv cell for cell: types, nulls and exact INT64 stamps, over several row groups', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-parquet-'));
  try {
    // Two runs, two callers, five frameworks, worker clocks hours away and beyond 2^53 ns, errors, records that do not join.
    await generateRecords(join(dir, 'records'), 205_000);
    const out = join(dir, 'report');
    const result = await analyze({ inputs: [join(dir, 'records')], out, csv: true, compress: true, resamples: 50 });
    const csv = parseCsv(gunzipSync(await readFile(result.files.csv!)).toString('utf8'));
    const header = csv.shift()!;
    const { metadata, rows } = await readParquet(result.files.parquet!);

    assert.deepEqual(header, PARQUET_COLUMNS.map(([name]) => name));
    assert.deepEqual(
      metadata.schema.slice(1).map((e) => [e.name, e.type, e.converted_type ?? null, e.repetition_type]),
      PARQUET_COLUMNS.map(([name, type]) => [
        name,
        type === 'STRING' ? 'BYTE_ARRAY' : type,
        type === 'STRING' ? 'UTF8' : null,
        'OPTIONAL',
      ]),
    );
    assert.ok(metadata.row_groups.length >= 3, `several row groups (${metadata.row_groups.length})`);
    assert.equal(rows.length, csv.length);
    assert.ok(rows.length > 200_000, 'more than two row groups of 100,000');

    const seen = { bigStamps: 0, nulls: 0, strings: new Set<string>() };
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const cells = csv[r]!;
      PARQUET_COLUMNS.forEach(([name, type], c) => {
        const cell = cells[c]!;
        const v = row[name];
        const where = `row ${r} (${String(row['id'])}) ${name}: ${String(v)} against CSV ${JSON.stringify(cell)}`;
        if (cell === '') {
          assert.equal(v, null, where);
          seen.nulls++;
          return;
        }
        switch (type) {
          case 'INT64':
            assert.equal(typeof v, 'bigint', where);
            assert.equal(String(v), cell, where);
            if ((v as bigint) > 2n ** 53n) seen.bigStamps++;
            break;
          case 'DOUBLE':
          case 'INT32':
            assert.equal(typeof v, 'number', where);
            assert.equal(v, Number(cell), where);
            if (type === 'INT32') assert.ok(Number.isInteger(v), where);
            break;
          case 'BOOLEAN':
            assert.equal(v, cell === 'true' ? true : cell === 'false' ? false : cell, where);
            break;
          case 'STRING':
            assert.equal(v, cell, where);
            if (name === 'framework' || name === 'worker_error' || name === 'worker_host') seen.strings.add(`${name}=${cell}`);
            break;
        }
      });
    }
    // The fixture exercised what it is there for.
    assert.ok(seen.bigStamps > 0, 'stamps beyond 2^53');
    assert.ok(seen.nulls > 0, 'nulls');
    for (const f of ['node', 'fastify', 'express', 'koa', 'hono']) assert.ok(seen.strings.has(`framework=${f}`), f);
    assert.ok(seen.strings.has('worker_error=function_error'), 'a worker error');
    assert.ok(seen.strings.has('worker_host=worker-2'), 'the second worker host');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
