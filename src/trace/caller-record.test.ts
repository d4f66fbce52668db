import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { callerRecordFormatter, formatCallerRecord, type CallerRecord } from './records.js';

const big = 2n ** 60n + 7n; // beyond 2^53: must survive exactly

const base: CallerRecord = {
  method: 'GET',
  path: '/empty?x=1',
  connections: 150,
  id: 'cabc-1',
  warmup: false,
  status: 200,
  bytes: 123,
  error: null,
  t0: big,
  t6: big + 1000n,
  t0_intended: null,
};

test('a closed-loop record has the contract fields in order, stamps as exact decimal strings', () => {
  const line = formatCallerRecord(base);
  assert.ok(line.endsWith('\n'));
  assert.equal(
    line,
    `{"role":"caller","host":${JSON.stringify(hostname())},"id":"cabc-1","method":"GET","path":"/empty?x=1",` +
      `"connections":150,"warmup":false,"status":200,"bytes":123,"error":null,"t0":"${big}","t6":"${big + 1000n}"}\n`,
  );
  const r = JSON.parse(line);
  assert.equal(BigInt(r.t0), big);
  assert.equal('t0_intended' in r, false);
  assert.equal('label' in r, false);
});

test('open loop adds t0_intended; a label is copied; failures keep their class and status 0', () => {
  const r = JSON.parse(
    formatCallerRecord({ ...base, label: 'fastify "x"', t0_intended: big - 5n, status: 0, error: 'timeout', warmup: true }),
  );
  assert.equal(r.t0_intended, String(big - 5n));
  assert.equal(r.label, 'fastify "x"');
  assert.equal(r.error, 'timeout');
  assert.equal(r.status, 0);
  assert.equal(r.warmup, true);
  assert.deepEqual(Object.keys(r), [
    'role', 'host', 'id', 'method', 'path', 'connections', 'warmup', 'status', 'bytes', 'error', 't0', 't6', 't0_intended', 'label',
  ]);
});

test('the hot-path formatter and formatCallerRecord agree', () => {
  const format = callerRecordFormatter(base);
  assert.equal(format(base), formatCallerRecord(base));
});
