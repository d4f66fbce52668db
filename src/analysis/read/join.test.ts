import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { analyze } from '../analyze.js';
import { requestLines, writeRecordDir, type RecordLines } from '../../testing/analysis-records.js';
import { describeUnjoined } from './join.js';

type Json = Record<string, unknown>;
const edit = (line: string, change: Json) => JSON.stringify({ ...(JSON.parse(line) as Json), ...change });

test('every kind of record that does not join is counted, none silently dropped', async () => {
  // Ids without a dash share one caller run (runs.ts), and it has gateway records: a caller record alone is unjoined, not caller-only.
  const r = (id: string, k: number): RecordLines => requestLines({ id, at: BigInt(k) * 3_000_000n });
  const caller: string[] = [];
  const gateway: string[] = [];
  const worker: string[] = [];
  const all = (x: RecordLines) => (caller.push(x.caller), gateway.push(x.gateway), worker.push(x.worker));
  let k = 0;
  for (let n = 0; n < 5; n++) all(r(`ok${n}`, k++)); // 5 measured
  const warm = r('warm', k++);
  all({ ...warm, caller: edit(warm.caller, { warmup: true }) });
  caller.push(r('conly', k++).caller); // no gateway, no worker record
  caller.push(edit(r('crefused', k++).caller, { status: 0, error: 'econnrefused' }));
  const gOnly = r('gonly', k++); // the gateway called a worker that left no record, and no caller record
  gateway.push(gOnly.gateway);
  const gNoW = r('gnow', k++); // joined, no worker record: measured from the gateway's copy
  caller.push(gNoW.caller);
  gateway.push(gNoW.gateway);
  worker.push(r('wonly', k++).worker);
  const wc = r('wc', k++); // worker and caller, the gateway's record lost
  worker.push(wc.worker);
  caller.push(wc.caller);
  const failed = r('fnerror', k++);
  all({ ...failed, gateway: edit(failed.gateway, { status: 500, error: 'function_error' }) });
  const timeout = r('timeout', k++);
  all({ ...timeout, caller: edit(timeout.caller, { status: 0, error: 'timeout' }) });
  const partial = r('not5', k++);
  all({ ...partial, gateway: edit(partial.gateway, { t5: null }) });
  const dup = r('ok0', 0);
  caller.push(dup.caller);
  gateway.push(dup.gateway);
  worker.push(dup.worker, dup.worker);
  const mismatch = r('mismatch', k++);
  all({ ...mismatch, worker: edit(mismatch.worker, { t3_end: String(BigInt(JSON.parse(mismatch.worker).t3_end) + 1n) }) });
  caller.push('not json', '[1,2]', '{"role":"caller"}', edit(r('role', k++).caller, { role: 'proxy' }), edit(r('stamp', k++).caller, { t0: '-5' }));

  const dir = await writeRecordDir({ caller, gateway, worker });
  try {
    const { summary, files } = await analyze({ inputs: [dir], resamples: 200, csv: true });
    const j = summary.joins;
    assert.deepEqual(summary.records.by_role, { caller: 14, gateway: 12, worker: 12 });
    assert.deepEqual(summary.records.duplicates, { caller: 1, gateway: 1, worker: 2 });
    assert.deepEqual(summary.records.rejected, { 'not JSON': 1, 'not a JSON object': 1, 'no id': 1, 'unknown role': 1, 'bad stamp': 1 });
    assert.equal(summary.records.worker_copy_mismatch, 1);
    assert.equal(j.ids, 16);
    assert.equal(j.joined, 11);
    assert.equal(j.joined_warmup, 1);
    assert.equal(j.measured, 7, '5 ok, g-no-w and mismatch (both measured from the gateway\'s copy of the worker stamps)');
    assert.deepEqual(j.excluded, { 'gateway: function_error': 1, 'caller: timeout': 1, 'incomplete stamps': 1 });
    assert.equal(j.caller_without_gateway, 3);
    assert.equal(j.caller_without_gateway_with_error, 1);
    assert.equal(j.gateway_without_caller, 1);
    assert.equal(j.gateway_without_worker, 2);
    assert.equal(j.worker_without_gateway, 2);
    assert.equal(j.worker_only, 1);
    // Every id is accounted for: joined, or unjoined on one side or the other.
    assert.equal(j.ids, j.joined + j.caller_without_gateway + j.gateway_without_caller + j.worker_only);
    assert.equal(j.joined - j.joined_warmup, j.measured + Object.values(j.excluded).reduce((a, b) => a + b, 0));

    const unjoined = describeUnjoined(j)!;
    assert.match(unjoined, /^8 record\(s\) did not join: 3 caller without gateway \(1 with a caller error\), 1 gateway without caller, 2 gateway without worker, 2 worker without gateway \(1 seen by no one else\)$/);
    assert.ok(summary.warnings.some((w) => w.startsWith(unjoined)));
    assert.ok(summary.warnings.some((w) => /5 line\(s\) could not be read/.test(w)));
    assert.ok(summary.warnings.some((w) => /4 duplicate record/.test(w)));
    assert.ok(summary.warnings.some((w) => /1 worker record\(s\) disagree/.test(w)));

    const csv = (await readFile(files.csv!, 'utf8')).trim().split('\n');
    assert.equal(csv.length - 1, j.joined, 'one CSV row per joined request');
    const html = await readFile(files.html, 'utf8');
    assert.match(html, /gateway record, no caller record<\/td><td class="num">1</);
    assert.match(html, /lines skipped: bad stamp<\/td><td class="num">1</);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
