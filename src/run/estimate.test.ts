import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG, planCells } from './config.js';
import { ASSUMED_RATE, describeOutput, estimateOutput } from './estimate.js';

test('the expected output counts the requests of count-bound cells and assumes a rate only for timed ones', () => {
  const byCount = planCells({ ...DEFAULT_CONFIG, frameworks: ['node', 'hono'], endpoints: [{ path: '/empty', requests: 1000 }], warmup: '0s', rounds: 3 });
  const e = estimateOutput(byCount, { compress: false, remote: false, csv: true, parquet: true });
  assert.deepEqual([e.requests, e.assumed], [6000, false]);
  const gz = estimateOutput(byCount, { compress: true, remote: false, csv: true, parquet: true });
  assert.ok(gz.bytes * 3 < e.bytes && gz.bytes > 0, `${gz.bytes} vs ${e.bytes}`);

  const timed = planCells({ ...DEFAULT_CONFIG, frameworks: ['node'], endpoints: [{ path: '/empty' }, { path: '/empty', rate: 100 }], duration: '2s', warmup: '1s', rounds: 1 });
  const t = estimateOutput(timed, { compress: false, remote: true, csv: false, parquet: false });
  assert.deepEqual([t.requests, t.seconds, t.assumed], [3 * ASSUMED_RATE + 300, 6, true]);

  const [where, size] = describeOutput('/r', byCount, { compress: true, remote: false, analyze: true });
  assert.match(where!, /^writes to \/r: run\.json, caller\.ndjson\.gz, worker\.ndjson\.gz, .*requests\.parquet\)$/);
  assert.match(size!, /^expected size: about [\d.]+ MB for ~6,000 requests \(from the request counts\); with --no-compress about [\d.]+ MB$/);
  const [withCsv] = describeOutput('/r', byCount, { compress: true, remote: false, analyze: true, csv: true });
  assert.match(withCsv!, /requests\.parquet, requests\.csv\.gz\)$/);
});
