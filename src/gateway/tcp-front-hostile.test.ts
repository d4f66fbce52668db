/**
 * Hostile callers of the TCP front (issue 30), with the real binaries: odd
 * arguments that once crashed it, names that once forged its records, calls
 * piled on one connection, frames begun and never finished, replies never
 * read, and callers that leave. The front stays up, bounds what each can
 * make it hold, and records every call truthfully.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeMessage } from '../rpc/codec.js';
import { readRecords, startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { bytesUntilClose, rssMb, within } from '../testing/guards.js';
import { rawRpc } from '../testing/rpc-client.js';
import { unusedPort } from '../testing/http-servers.js';

let dir: string;
let worker: RoleProcess & { address: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-tcp-hostile-'));
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson')]);
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

const addressOf = (front: { url: string }) => front.url.slice('tcp://'.length);

test('finding 1: payload calls with nil, map or junk arguments are answered and the front stays up', async () => {
  const front = await startGatewayProcess('tcp', worker.address, ['--log', join(dir, 'odd.ndjson')]);
  try {
    const rpc = await rawRpc(addressOf(front));
    const replies = await rpc.burst([
      { fn: 'payload', args: null },
      { fn: 'payload', args: { format: { toString: 1 } } },
      { fn: 'payload', args: { bytes: { valueOf: 'x' }, format: ['json'] } },
      { fn: 'payload', args: { bytes: 1.5, format: 'json' } },
      { fn: 'payload', args: { bytes: 16, format: 'raw' } },
    ]);
    assert.equal(replies.length, 5);
    // nil arguments are no arguments: the default payload (1024 bytes of JSON).
    assert.equal(replies[0]!.err, undefined, JSON.stringify(replies[0]!.err));
    for (const r of replies.slice(1, 4)) assert.equal(r.err?.code, 'bad_input', JSON.stringify(r.err));
    assert.equal(replies[4]!.err, undefined);
    rpc.close();
    // Still up, and still serving.
    const again = await rawRpc(addressOf(front));
    assert.equal((await again.burst([{ fn: 'empty' }]))[0]!.err, undefined);
    again.close();
    assert.equal(front.proc.exitCode, null, 'the front is still running');
  } finally {
    await front.stop();
  }
  // Records come in the order of the replies: compared as a set of names.
  const names = (await readRecords(join(dir, 'odd.ndjson'))).map((r) => String(r.fn)).slice(0, 5).sort();
  assert.deepEqual(names, ['payload', 'payload', 'payload', 'payload?bytes=1024&format=json', 'payload?bytes=16&format=raw']);
});

test('finding 2: a caller cannot forge or alter the front\'s records', async () => {
  const file = join(dir, 'forged.ndjson');
  const front = await startGatewayProcess('tcp', worker.address, ['--log', file]);
  const forged = '{"role":"gateway","host":"h","id":"forged","framework":"tcp","fn":"empty","status":200,"error":null}';
  const names = [`x","status":200,"error":null}\n${forged}\n{"fn":"y`, 'quote"back\\slash\u2028line\u0000nul', 'payload'];
  try {
    const rpc = await rawRpc(addressOf(front));
    const replies = await rpc.burst([
      { fn: names[0]!, rid: 'call-a' },
      { fn: names[1]!, rid: 'call-b' },
      { fn: 'payload', args: { bytes: 10, format: `json","status":200,"error":null}\n${forged}\n{"x":"` }, rid: 'call-c' },
      { fn: 'empty', rid: 'id"with\nnewline' },
    ]);
    assert.deepEqual(replies.map((r) => r.err?.code ?? null), ['unknown_function', 'unknown_function', 'bad_input', null]);
    rpc.close();
  } finally {
    await front.stop();
  }
  const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.type === undefined);
  assert.equal(records.length, 4, `one record per call, no more: ${lines.join(' | ')}`);
  assert.ok(!records.some((r) => r.id === 'forged'), 'no forged record');
  const byId = new Map(records.map((r) => [r.id, r]));
  assert.equal(byId.get('call-a')?.fn, names[0], 'a name is kept exactly, escaped');
  assert.equal(byId.get('call-a')?.status, 502);
  assert.equal(byId.get('call-b')?.fn, names[1]);
  assert.deepEqual([byId.get('call-c')?.fn, byId.get('call-c')?.status, byId.get('call-c')?.error], ['payload', 400, 'bad_input']);
  // An id outside the gateway's rule is replaced by one of the front's own.
  const other = records.find((r) => !['call-a', 'call-b', 'call-c'].includes(r.id as string));
  assert.match(String(other?.id), /^g[0-9a-f]{8}-/);
});

test('finding 3: calls piled on one connection beyond its limit are refused at once, overloaded', async () => {
  const front = await startGatewayProcess('tcp', worker.address, ['--max-inflight-per-connection', '4']);
  try {
    const before = rssMb(front.proc.pid!);
    const rpc = await rawRpc(addressOf(front));
    // 40 calls of 8 MiB of JSON in one write: one read holds them all.
    const replies = await rpc.burst(Array.from({ length: 40 }, () => ({ fn: 'payload', args: { bytes: 8 * 1024 * 1024, format: 'json' } })), 120_000);
    const refused = replies.filter((r) => r.err?.code === 'overloaded');
    assert.ok(refused.length >= 30, `most were refused: ${refused.length} of 40`);
    assert.match(refused[0]!.err!.message, /4 calls in flight.*--max-inflight-per-connection/);
    assert.ok(replies.some((r) => r.err === undefined), 'the first ones were served');
    rpc.close();
    const grew = rssMb(front.proc.pid!) - before;
    assert.ok(grew < 600, `the front grew by ${grew.toFixed(0)} MB`);
  } finally {
    await front.stop();
  }
});

test('finding 4: a call frame begun and never finished is cut off, and frames in progress are bounded in all', async () => {
  const front = await startGatewayProcess('tcp', worker.address, ['--request-timeout-ms', '1500', '--max-uploads-bytes', String(24 * 1024 * 1024)]);
  try {
    const before = rssMb(front.proc.pid!);
    const partial = Buffer.concat([Buffer.from([0, 0xf0, 0, 0]) /* 15 MiB declared */, Buffer.alloc(1024 * 1024, 1)]);
    const clients = await Promise.all(Array.from({ length: 6 }, () => rawRpc(addressOf(front))));
    for (const c of clients) c.write(partial);
    const said = await within(Promise.all(clients.map((c) => c.closed)), 60_000, 'the front closing every half-sent frame');
    const codes = said.map((s) => s?.code ?? 'closed');
    // 15 MiB each against 24 MiB in all: one fits, the rest are refused at once, and the one held is cut off.
    assert.ok(codes.filter((c) => c === 'uploads_full').length >= 4, codes.join(', '));
    assert.ok(codes.includes('read_timeout'), codes.join(', '));
    const grew = rssMb(front.proc.pid!) - before;
    assert.ok(grew < 200, `the front grew by ${grew.toFixed(0)} MB`);
    const good = await rawRpc(addressOf(front));
    assert.equal((await good.burst([{ fn: 'empty' }]))[0]!.err, undefined, 'still serving');
    good.close();
  } finally {
    await front.stop();
  }
});

test('finding 7: a caller that reads none of its replies is cut off, and the records say so', async () => {
  const file = join(dir, 'unread.ndjson');
  const front = await startGatewayProcess('tcp', worker.address, ['--send-timeout-ms', '1500', '--log', file]);
  try {
    const [host, port] = addressOf(front).split(':');
    const socket = connect({ host, port: Number(port) });
    socket.pause(); // reads nothing (so it cannot see the close either, until it reads again)
    socket.on('error', () => {});
    const calls = Array.from({ length: 8 }, (_, i) =>
      encodeMessage({ t: 'call', cid: i + 1, rid: `unread-${i}`, fn: 'payload', args: { bytes: 8 * 1024 * 1024, format: 'raw' } }),
    );
    socket.write(Buffer.concat([encodeMessage({ t: 'hello', v: 1 }), ...calls]));
    await waitFor(() => front.logs.some((l) => l.includes('"code":"send_timeout"')), 90_000, 'the front cutting off a caller that reads nothing');
    // Reading again, it gets what the kernel already held, then the end: not its 64 MiB.
    const got = await bytesUntilClose(socket);
    assert.ok(got < 64 * 1024 * 1024, `the caller got ${got} bytes`);
    await waitFor(async () => (await readRecords(file)).filter((r) => String(r.id).startsWith('unread-')).length === 8, 15_000, 'every call recorded');
  } finally {
    await front.stop();
  }
  const records = (await readRecords(file)).filter((r) => String(r.id).startsWith('unread-'));
  // What the kernel took before the caller stalled is recorded delivered; the rest say they never were.
  assert.ok(records.some((r) => r.error === 'send_timeout'), JSON.stringify(records.map((r) => [r.status, r.error])));
});

test('finding 8: a caller that leaves: its call is cancelled at the worker, and both record it', async () => {
  const file = join(dir, 'left.ndjson');
  const metricsPort = await unusedPort();
  const front = await startGatewayProcess('tcp', worker.address, ['--log', file, '--metrics-port', String(metricsPort)]);
  try {
    const rpc = await rawRpc(addressOf(front));
    void rpc.burst([{ fn: 'sleep', args: { ms: 20_000 }, rid: 'left-early' }], 60_000).catch(() => {});
    // The caller leaves once its call is at the worker (a fixed wait could leave before, on a busy machine).
    const inFlight = async () => /^faasbench_gateway_calls_in_flight({[^}]*})? 1$/m.test(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    await waitFor(inFlight, 15_000, 'the call in flight at the worker');
    rpc.close();
    await waitFor(async () => (await readRecords(file)).some((r) => r.id === 'left-early'), 15_000, "the front's record");
  } finally {
    await front.stop();
  }
  const g = (await readRecords(file)).find((r) => r.id === 'left-early')!;
  assert.deepEqual([g.status, g.error, g.fn], [499, 'cancelled', 'sleep']);
  // The worker stopped the sleep (its signal aborted) rather than letting it run out its 20 s.
  await waitFor(async () => (await readRecords(join(dir, 'worker.ndjson'))).some((r) => r.id === 'left-early'), 15_000, "the worker's record");
  const w = (await readRecords(join(dir, 'worker.ndjson'))).find((r) => r.id === 'left-early')!;
  assert.equal(w.error, 'cancelled');
});
