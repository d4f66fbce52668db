/**
 * What one RPC client can make the worker hold (issue 30), with the real
 * binary: calls in flight per connection and in all, a frame begun and never
 * finished, replies never read, a client that leaves mid-call; and the
 * protocol's small print (call ids, nil arguments, the sleep's range).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeMessage } from '../rpc/codec.js';
import { readRecords, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { bytesUntilClose, within } from '../testing/guards.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;
let worker: RoleProcess & { address: string };
const log = () => join(dir, 'worker.ndjson');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-worker-bounds-'));
  worker = await startWorkerProcess([
    '--log', join(dir, 'worker.ndjson'),
    '--max-inflight', '6',
    '--max-inflight-per-connection', '4',
    '--read-timeout-ms', '1000',
    '--send-timeout-ms', '1500',
  ]);
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('finding 3: calls beyond a connection\'s limit, then beyond the worker\'s, are refused unrun: overloaded', async () => {
  const a = await rawRpc(worker.address);
  const b = await rawRpc(worker.address);
  try {
    const sleeps = (n: number) => Array.from({ length: n }, () => ({ fn: 'sleep', args: { ms: 800 } }));
    const [onA, onB] = await Promise.all([a.burst(sleeps(10)), new Promise((r) => setTimeout(r, 100)).then(() => b.burst(sleeps(4)))]);
    const codes = (rs: typeof onA) => rs.map((r) => r.err?.code ?? 'ok');
    // A: 4 run (its limit), 6 refused. B, a moment later: 2 run (6 in all), 2 refused.
    assert.deepEqual(codes(onA).filter((c) => c === 'ok').length, 4, codes(onA).join(' '));
    assert.deepEqual(codes(onA).filter((c) => c === 'overloaded').length, 6, codes(onA).join(' '));
    assert.match(onA.find((r) => r.err)!.err!.message, /this connection already has 4 calls in flight.*--max-inflight-per-connection/);
    assert.deepEqual(codes(onB).filter((c) => c === 'ok').length, 2, codes(onB).join(' '));
    assert.match(onB.find((r) => r.err)!.err!.message, /the server already has 6 calls in flight.*--max-inflight\)/);
    // Answered, the room is back.
    assert.equal((await a.burst([{ fn: 'empty' }]))[0]!.err, undefined);
  } finally {
    a.close();
    b.close();
  }
});

test('finding 4: after the hello, a frame begun and never finished is cut off at the read timeout', async () => {
  const rpc = await rawRpc(worker.address);
  rpc.write(Buffer.concat([Buffer.from([0, 0x10, 0, 0]), Buffer.alloc(64 * 1024, 1)])); // 1 MiB declared, 64 KiB sent
  const said = await within(rpc.closed, 30_000, 'the worker closing a half-sent frame');
  assert.equal(said?.code, 'read_timeout');
});

test('finding 7: a client that takes none of its replies is disconnected, and the replies it never took are recorded as such', async () => {
  const [host, port] = [worker.address.slice(0, worker.address.lastIndexOf(':')), Number(worker.address.split(':').pop())];
  const socket = connect({ host, port });
  socket.pause(); // reads nothing (so it cannot see the close either, until it reads again)
  socket.on('error', () => {});
  const calls = Array.from({ length: 4 }, (_, i) => encodeMessage({ t: 'call', cid: i + 1, rid: `unread-${i}`, fn: 'payload', args: { bytes: 8 * 1024 * 1024, format: 'raw' } }));
  socket.write(Buffer.concat([encodeMessage({ t: 'hello', v: 1 }), ...calls]));
  // The records of replies never taken are written when the worker gives the connection up.
  await waitFor(async () => (await readRecords(log())).filter((r) => String(r.id).startsWith('unread-')).length === 4, 90_000, 'four records');
  const records = (await readRecords(log())).filter((r) => String(r.id).startsWith('unread-'));
  assert.ok(records.some((r) => r.error === 'send_timeout'), JSON.stringify(records.map((r) => r.error)));
  const got = await bytesUntilClose(socket);
  assert.ok(got < 32 * 1024 * 1024, `the client got ${got} bytes of 32 MiB`);
});

test('finding 8: a client that leaves mid-call: the call is cancelled (its signal aborted) and still recorded', async () => {
  const rpc = await rawRpc(worker.address);
  void rpc.burst([{ fn: 'sleep', args: { ms: 20_000 }, rid: 'gone-1' }], 60_000).catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  rpc.close();
  await waitFor(async () => (await readRecords(log())).some((r) => r.id === 'gone-1'), 15_000, 'the record of the call');
  assert.equal((await readRecords(log())).find((r) => r.id === 'gone-1')!.error, 'cancelled');
});

test('a call id must be a uint32: -1 and 1.5 are protocol errors', async () => {
  for (const cid of [-1, 1.5, 2 ** 32]) {
    const rpc = await rawRpc(worker.address);
    rpc.write(encodeMessage({ t: 'call', cid, rid: 'x', fn: 'empty', args: {} }));
    const said = await within(rpc.closed, 10_000, `a call with cid ${cid}`);
    assert.equal(said?.code, 'bad_message', String(cid));
    assert.match(said!.message, /cid \(uint32\)/);
  }
});

test('nil arguments are no arguments: payload answers its default, never function_error', async () => {
  const rpc = await rawRpc(worker.address);
  try {
    const [reply] = await rpc.burst([{ fn: 'payload', args: null }]);
    assert.equal(reply!.err, undefined, JSON.stringify(reply!.err));
    assert.equal(JSON.stringify(reply!.result).length, 1024);
  } finally {
    rpc.close();
  }
});

test('the sleep over raw RPC allows 0 to 25000 ms, as docs/rpc-protocol.md says', async () => {
  const doc = await readFile(new URL('../../../docs/rpc-protocol.md', import.meta.url), 'utf8');
  assert.match(doc, /\| `sleep` \| `ms`: int 0–25000, default 1000 \|/);
  const rpc = await rawRpc(worker.address);
  try {
    const [over, at] = await rpc.burst([{ fn: 'sleep', args: { ms: 25_001 } }, { fn: 'sleep', args: { ms: 0 } }]);
    assert.equal(over!.err?.code, 'bad_input');
    assert.match(over!.err!.message, /from 0 to 25000/);
    assert.equal(at!.err, undefined);
  } finally {
    rpc.close();
  }
});
