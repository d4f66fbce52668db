import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRecordSink } from './record-writer.js';

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
