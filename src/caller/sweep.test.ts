import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords, startHttpServer } from '../testing/http-servers.js';
import { runSweep } from './sweep.js';
import { formatSweep } from './summary.js';

test('a sweep runs each count in turn: one row per count, all records in one file', { timeout: 30_000 }, async () => {
  const server = await startHttpServer();
  const out = join(mkdtempSync(join(tmpdir(), 'faasbench-caller-')), 'sweep.ndjson');
  try {
    const seen: number[] = [];
    const rows = await runSweep({ url: server.url, connections: [1, 3, 5], requests: 30, warmupMs: 0, out, onRow: (r) => seen.push(r.connections) });
    assert.deepEqual(rows.map((r) => r.connections), [1, 3, 5]);
    assert.deepEqual(seen, [1, 3, 5]);
    for (const row of rows) {
      assert.equal(row.requests, 30);
      assert.equal(row.errors, 0);
      assert.ok(row.throughput > 0 && row.p50 > 0 && row.p99 >= row.p50);
      assert.equal(row.result.connections, row.connections);
    }
    const records = readRecords(out);
    assert.equal(records.length, 90);
    for (const c of [1, 3, 5]) assert.equal(records.filter((r) => r.connections === c).length, 30);
    assert.equal(new Set(records.map((r) => r.id)).size, 90);
    const text = formatSweep(rows);
    assert.equal(text.trim().split('\n').length, 4, text);
  } finally {
    await server.close();
  }
});
