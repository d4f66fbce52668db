import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openRecordSink } from './record-writer.js';

/** The start of a gzip member: magic, deflate, no flags. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08, 0x00]);

test('every line reaches the file, in order, in chunks while running and the rest at close', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'faasbench-sink-')), 'nested', 'records.ndjson');
  const sink = openRecordSink(file);
  const lines = Array.from({ length: 5000 }, (_, i) => `{"id":"r-${i}","pad":"${'x'.repeat(i % 97)}"}\n`);
  for (const line of lines.slice(0, 2500)) sink.write(line);
  // Let the chunk writes that 2500 lines (> 64 KiB) triggered complete.
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(statSync(file).size > 0, 'nothing was written before close');
  for (const line of lines.slice(2500)) sink.write(line);
  await sink.close();
  assert.equal(readFileSync(file, 'utf8'), lines.join(''));
  sink.write('after close\n');
  assert.equal(readFileSync(file, 'utf8'), lines.join(''));
});

test('a second sink on the same file appends', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'faasbench-sink-')), 'records.ndjson');
  for (const text of ['a\n', 'b\n']) {
    const sink = openRecordSink(file);
    sink.write(text);
    await sink.close();
  }
  assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
});

test('a .gz file gets gzip members that read back as the lines written, appended sinks included', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'faasbench-sink-')), 'records.ndjson.gz');
  const lines = Array.from({ length: 5000 }, (_, i) => `{"id":"r-${i}","pad":"${'x'.repeat(i % 97)}"}\n`);
  for (const part of [lines.slice(0, 4000), lines.slice(4000)]) {
    const sink = openRecordSink(file);
    for (const line of part) sink.write(line);
    await sink.close();
  }
  const bytes = readFileSync(file);
  assert.equal(gunzipSync(bytes).toString(), lines.join(''));
  let members = 0;
  for (let i = bytes.indexOf(GZIP_MAGIC); i !== -1; i = bytes.indexOf(GZIP_MAGIC, i + 1)) members++;
  assert.ok(members >= 3, `${members} gzip members`);
});
