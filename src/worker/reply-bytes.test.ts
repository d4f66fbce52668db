/**
 * The byte bound on one connection's replies (issue 30): a client that reads
 * none of its replies makes the worker hold at most
 * --max-reply-bytes-per-connection of them (plus what the kernel took); the
 * results beyond are answered `overloaded`, never queued for it. Real binary.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import type { ReplyMessage } from '../rpc/protocol.js';
import { runCli, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

const MIB = 1024 * 1024;
const CALLS = 12;
let worker: RoleProcess & { address: string };

before(async () => {
  worker = await startWorkerProcess(['--max-reply-bytes-per-connection', String(MIB)]);
});

after(async () => {
  await worker?.stop();
});

test('a client that reads none of its 8 MiB replies: the worker refuses the results beyond its byte bound, overloaded, naming the flag', async () => {
  const [host, port] = [worker.address.slice(0, worker.address.lastIndexOf(':')), Number(worker.address.split(':').pop())];
  const socket = connect({ host, port });
  socket.pause(); // reads nothing until the worker has refused some
  socket.on('error', () => {});
  const calls = Array.from({ length: CALLS }, (_, i) => encodeMessage({ t: 'call', cid: i + 1, rid: `held-${i}`, fn: 'payload', args: { bytes: 8 * MIB, format: 'raw' } }));
  socket.write(Buffer.concat([encodeMessage({ t: 'hello', v: 1 }), ...calls]));
  // 96 MiB answered to a reader of nothing: more than the kernel's buffers take, so the worker must refuse some (and says so once, at once).
  await waitFor(() => worker.logs.some((l) => l.includes('their connection holds its limit of replies not read')), 60_000, 'the worker logging a refusal');
  const replies: ReplyMessage[] = [];
  const decoder = new FrameDecoder();
  const all = new Promise<void>((resolve) =>
    socket.on('data', (d: Buffer) => {
      for (const body of decoder.push(d)) {
        const m = decodeMessage(body);
        if (m.t === 'reply') replies.push(m);
        if (replies.length === CALLS) resolve();
      }
    }),
  );
  socket.resume();
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((_, reject) => (guard = setTimeout(() => reject(new Error(`${replies.length} of ${CALLS} replies`)), 60_000)))]);
  clearTimeout(guard);
  socket.destroy();
  const refused = replies.filter((r) => r.err);
  const answered = replies.filter((r) => !r.err);
  assert.ok(refused.length >= 1, 'some results refused');
  assert.ok(answered.length >= 1, 'the first result goes: a result alone always does');
  for (const r of refused) {
    assert.equal(r.err!.code, 'overloaded');
    assert.match(r.err!.message, /limit of 1048576 bytes.*--max-reply-bytes-per-connection/);
  }
  for (const r of answered) assert.equal((r.result as Uint8Array).length, 8 * MIB);
});

test('--max-reply-bytes-per-connection 0 is refused with one line and exit 2', async () => {
  const r = await runCli(['worker', '--port', '0', '--max-reply-bytes-per-connection', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /max-reply-bytes-per-connection/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
