import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatWorkerRecord, type WorkerRecord } from './records.js';
import { traceIdFor, traceparentFor, workerSpanIdFor } from './trace-context.js';

const big = 2n ** 60n + 7n;
const base: WorkerRecord = { id: 'R.1', fn: 'empty', error: null, t3_recv: big, t3_start: big + 1n, t3_end: big + 2n, t3_send: big + 3n, instance: null };

test('a call with neither nesting nor calls writes the record as before', () => {
  const plain = JSON.parse(formatWorkerRecord(base));
  assert.equal(plain.parent, undefined);
  assert.equal(plain.calls, undefined);
  assert.equal(formatWorkerRecord({ ...base, nesting: null, calls: [] }), formatWorkerRecord(base));
});

test('a nested call adds parent and depth after trace_id; a caller adds its calls, stamps exact', () => {
  const line = formatWorkerRecord({
    ...base,
    traceId: 'a'.repeat(32),
    nesting: { parent: 'R', depth: 1 },
    calls: [
      { id: 'R.1.1', fn: 'sleep', via: 'rpc', step: 'steps[1].parallel[0]#2', error: null, c_send: big + 10n, c_recv: big + 20n },
      { id: 'R.1.2', fn: 'boom', via: 'http', step: null, error: 'function_error', c_send: big + 30n, c_recv: null },
    ],
  });
  const keys = Object.keys(JSON.parse(line));
  assert.deepEqual(keys.slice(-4), ['trace_id', 'parent', 'depth', 'calls']);
  const r = JSON.parse(line);
  assert.equal(r.parent, 'R');
  assert.equal(r.depth, 1);
  assert.deepEqual(r.calls[0], { id: 'R.1.1', fn: 'sleep', via: 'rpc', step: 'steps[1].parallel[0]#2', error: null, c_send: String(big + 10n), c_recv: String(big + 20n) });
  assert.equal(r.calls[1].c_recv, null);
  assert.equal(r.calls[1].error, 'function_error');
});

test('trace context: one trace id per request, a span per call, a valid traceparent', () => {
  const hex = 'ab'.repeat(16);
  assert.equal(traceIdFor(hex), hex);
  assert.match(traceIdFor('c1a2b3-17'), /^[0-9a-f]{32}$/);
  assert.equal(traceIdFor('c1a2b3-17'), traceIdFor('c1a2b3-17'));
  assert.notEqual(workerSpanIdFor(hex, 'R'), workerSpanIdFor(hex, 'R.1'));
  assert.match(traceparentFor(hex, 'R.1'), /^00-[0-9a-f]{32}-[0-9a-f]{14}06-01$/);
});
