import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOSTS } from '../../testing/analysis-records.js';
import { DEFAULT_PARTS, kernelRequest, socketLines, type KernelRequest } from '../../testing/kernel-records.js';
import { stageAt } from '../compute/stage-columns.js';
import { Ingest } from './ingest.js';
import { joinKernel, type KernelJoinCounts } from './kernel-join.js';
import { RequestTable } from './table.js';

/** Reads the requests' records and kernel lines (sockets first, or wherever `socketsLast` puts them), joins, and returns the table. */
function joined(requests: KernelRequest[], sockets = [socketLines()], socketsLast = false): { t: RequestTable; counts: KernelJoinCounts } {
  const t = new RequestTable(16);
  const ingest = new Ingest(t);
  const feed = (lines: string[]) => lines.forEach((l) => ingest.line(l, 'test', 1));
  const socks = () => sockets.forEach((s) => feed([...s.caller, ...s.gateway, ...s.worker]));
  if (!socketsLast) socks();
  for (const r of requests) feed([r.records.caller, r.records.gateway, r.records.worker, ...r.kernel.caller, ...r.kernel.gateway, ...r.kernel.worker]);
  if (socketsLast) socks();
  assert.deepEqual(ingest.counts.rejected, {}, 'every line read');
  t.sealed();
  const { columns, counts } = joinKernel(t, ingest.kernel);
  t.kernel = columns;
  return { t, counts };
}

const ns = (v: bigint) => Number(v);

test('each part of both links comes out as laid out, across hosts hours apart, and the parts add up to their link exactly', () => {
  const { t, counts } = joined([kernelRequest({ id: 'a', at: 1_000_000n })]);
  const p = DEFAULT_PARTS;
  assert.equal(stageAt(t, 'wire', 0), ns(p.wire_in + p.wire_out));
  assert.equal(stageAt(t, 'gateway_socket_wait', 0), ns(p.gateway_socket_wait));
  assert.equal(stageAt(t, 'caller_socket_wait', 0), ns(p.caller_socket_wait));
  assert.equal(stageAt(t, 'rpc_wire', 0), ns(p.rpc_wire_out + p.rpc_wire_back));
  assert.equal(stageAt(t, 'worker_socket_wait', 0), ns(p.worker_socket_wait));
  assert.equal(stageAt(t, 'gateway_reply_wait', 0), ns(p.gateway_reply_wait));
  assert.equal(stageAt(t, 'wire', 0) + stageAt(t, 'gateway_socket_wait', 0) + stageAt(t, 'caller_socket_wait', 0), stageAt(t, 'caller_link', 0));
  assert.equal(stageAt(t, 'rpc_wire', 0) + stageAt(t, 'worker_socket_wait', 0) + stageAt(t, 'gateway_reply_wait', 0), stageAt(t, 'rpc_link', 0));
  assert.deepEqual(counts.found, { k1: 1, k5: 1, k6: 1, k3: 1, k4: 1 });
});

test("the kernel's send stands for t5: respond ends at it, the caller link starts from it, and the roundtrip still adds up", () => {
  const lag = 30_000n;
  const { t } = joined([kernelRequest({ id: 'a', at: 5n }, { send_lag: lag })]);
  const plain = joined([kernelRequest({ id: 'a', at: 5n }, { send_lag: lag }, {}, ['k5'])]).t;
  assert.equal(stageAt(plain, 'respond', 0) - stageAt(t, 'respond', 0), ns(lag), 'respond is short by the lag');
  assert.equal(stageAt(t, 'caller_link', 0) - stageAt(plain, 'caller_link', 0), ns(lag));
  for (const table of [t, plain]) {
    const parts = ['gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond', 'caller_link'] as const;
    assert.equal(parts.reduce((sum, s) => sum + stageAt(table, s, 0), 0), stageAt(table, 'roundtrip', 0));
    assert.equal(stageAt(table, 'handler', 0) + stageAt(table, 'delta', 0), stageAt(table, 'roundtrip', 0));
  }
  // Without the send, the split still adds up to the caller link it has (ending at t5): the wire then holds the lag, as it says.
  assert.equal(stageAt(plain, 'wire', 0), ns(DEFAULT_PARTS.wire_in + DEFAULT_PARTS.wire_out - lag));
  assert.equal(stageAt(plain, 'wire', 0) + stageAt(plain, 'gateway_socket_wait', 0) + stageAt(plain, 'caller_socket_wait', 0), stageAt(plain, 'caller_link', 0));
});

test('requests one after another on a connection each find their own message; one whose start was lost gets no split, its neighbours keep theirs', () => {
  const step = 5_000_000n;
  const requests = [0, 1, 2, 3].map((k) =>
    kernelRequest({ id: `r${k}`, at: 1_000n + BigInt(k) * step }, { gateway_socket_wait: 100_000n * BigInt(k + 1) }, { callOff: 16 + 100 * k, replyOff: 54 + 100 * k }, k === 2 ? ['k1', 'k6'] : []),
  );
  const { t, counts } = joined(requests);
  for (const k of [0, 1, 3]) assert.equal(stageAt(t, 'gateway_socket_wait', k), 100_000 * (k + 1), `request ${k}`);
  assert.ok(Number.isNaN(stageAt(t, 'wire', 2)) && Number.isNaN(stageAt(t, 'gateway_socket_wait', 2)), 'no split without its own start');
  assert.equal(stageAt(t, 'rpc_wire', 2), ns(DEFAULT_PARTS.rpc_wire_out + DEFAULT_PARTS.rpc_wire_back), 'its RPC link is split still');
  assert.deepEqual(counts.missing.k1, { 'message start not seen': 1 });
  // The caller's lost start: the latest before its t6 is the previous response's, which came before its t0.
  assert.deepEqual(counts.missing.k6, { 'no message start before its read': 1 });
});

test('on the RPC link each frame finds the segment that holds its first byte: two calls in one segment share it, a frame across two takes the first', () => {
  const a = kernelRequest({ id: 'a', at: 1_000n }, {}, { callOff: 100 });
  const b = kernelRequest({ id: 'b', at: 1_000n }, {}, { callOff: 150 });
  // One segment [100, 200) holds both calls' first bytes; b's frame ends in the next segment, which arrives later.
  const seg = (off: number, len: number, at: bigint) =>
    JSON.stringify({ role: 'worker', type: 'kernel', host: DEFAULT_HOSTS.worker, k: 'seg', sock: 31, t: String(at + DEFAULT_HOSTS.workerBase), off, len });
  a.kernel.worker = [seg(100, 100, a.k.k3), seg(200, 60, a.k.k3 + 7_000n)];
  b.kernel.worker = [];
  b.kernel.gateway = b.kernel.gateway.filter((l) => !l.includes('"seg"'));
  b.records.gateway = b.records.gateway.replace('"rpc_off":54', '"rpc_off":60');
  const { t } = joined([a, b]);
  assert.equal(stageAt(t, 'worker_socket_wait', 0), ns(DEFAULT_PARTS.worker_socket_wait));
  assert.equal(stageAt(t, 'worker_socket_wait', 1), ns(DEFAULT_PARTS.worker_socket_wait), 'the same segment: the same arrival');
  // b's reply (offset 60) lies inside a's reply segment [54, 92): it arrived with it.
  assert.equal(stageAt(t, 'gateway_reply_wait', 1), stageAt(t, 'gateway_reply_wait', 0));
});

test('a connection whose address pair comes back on a new socket joins each request to the socket alive at the time', () => {
  const later = 60_000_000_000n;
  const first = kernelRequest({ id: 'old', at: 1_000n }, { gateway_socket_wait: 111_000n }, { callerSock: 11, gatewaySock: 21 });
  const second = kernelRequest({ id: 'new', at: later }, { gateway_socket_wait: 222_000n }, { callerSock: 12, gatewaySock: 23 });
  const sockets = [socketLines(), socketLines({ callerSock: 12, gatewaySock: 23 }, later - 1_000_000n)];
  // Kernel lines may come before their socket's line (the tracer's per-CPU buffers): order in the file does not matter.
  const { t } = joined([first, second], sockets, true);
  assert.equal(stageAt(t, 'gateway_socket_wait', 0), 111_000);
  assert.equal(stageAt(t, 'gateway_socket_wait', 1), 222_000);
  assert.equal(stageAt(t, 'caller_socket_wait', 1), ns(DEFAULT_PARTS.caller_socket_wait));
});

test('records that name a connection no tracer saw are counted, not guessed', () => {
  const { t, counts } = joined([kernelRequest({ id: 'a', at: 1_000n }, {}, { callerConn: '10.9.9.9:1>10.0.0.2:8080' })]);
  assert.ok(Number.isNaN(stageAt(t, 'wire', 0)));
  assert.deepEqual(counts.missing.k6, { 'connection not traced': 1 });
  assert.equal(counts.found.k1, 1);
});
