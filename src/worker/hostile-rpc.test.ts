/**
 * Hostile input on the RPC port of a real worker: each bad client is
 * disconnected, nothing it claims is allocated, and everyone else is served.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { PATIENT, startGatewayProcess, startRole, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { rssMb } from '../testing/guards.js';

let worker: RoleProcess & { address: string };
let port: number;

before(async () => {
  worker = await startWorkerProcess(['--hello-timeout-ms', '500', '--secret', 'open-sesame']);
  port = Number(worker.address.split(':').pop());
});
after(async () => {
  await worker?.stop();
});

/** Connects, sends `bytes`, and resolves with what the worker said before it closed. */
function sendAndWaitForClose(bytes: Buffer | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the worker did not close the connection'));
    }, 5000);
    socket.on('connect', () => bytes && socket.write(bytes));
    socket.on('data', (c) => got.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

/** A well-behaved client that stays connected: hello, then calls on the same connection. */
async function goodClient() {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  const decoder = new FrameDecoder();
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.on('data', (c: Buffer) => {
    for (const body of decoder.push(c)) {
      const m = decodeMessage(body) as unknown as Record<string, unknown>;
      if (m.t === 'reply') waiting.get(m.cid as number)?.(m);
    }
  });
  socket.write(encodeMessage({ t: 'hello', v: 1, secret: 'open-sesame' }));
  let cid = 0;
  return {
    get closed() {
      return closed;
    },
    call(fn: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
      const id = ++cid;
      const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
        waiting.set(id, resolve);
        setTimeout(() => reject(new Error(`no reply to ${fn}`)), 5000).unref();
      });
      socket.write(encodeMessage({ t: 'call', cid: id, rid: `good-${id}`, fn, args }));
      return reply;
    },
    close: () => socket.destroy(),
  };
}

/** A well-behaved client: hello, then one call of `empty`. */
async function goodCall(): Promise<unknown> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  const decoder = new FrameDecoder();
  const messages: unknown[] = [];
  const done = new Promise<unknown>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      for (const body of decoder.push(c)) {
        const m = decodeMessage(body);
        messages.push(m);
        if (m.t === 'reply') resolve(m);
      }
    });
  });
  socket.write(encodeMessage({ t: 'hello', v: 1, secret: 'open-sesame' }));
  socket.write(encodeMessage({ t: 'call', cid: 1, rid: 'good', fn: 'empty', args: {} }));
  try {
    return await done;
  } finally {
    socket.destroy();
  }
}

const errorCode = (said: Buffer) => {
  const [body] = new FrameDecoder().push(said);
  const m = body ? decodeMessage(body) : null;
  return m?.t === 'error' ? m.code : null;
};

test('random bytes, truncated frames, junk messages and silence are each disconnected', async () => {
  const hello = encodeMessage({ t: 'hello', v: 1, secret: 'open-sesame' });
  const cases: Array<[string, Buffer | null]> = [
    ['random bytes', randomBytes(64)],
    ['truncated frame', encodeMessage({ t: 'hello', v: 1 }).subarray(0, 6)],
    ['not msgpack', Buffer.concat([hello, Buffer.from([0, 0, 0, 1, 0xc1])])],
    ['unknown type', Buffer.concat([hello, encodeMessage({ t: 'launch-missiles' } as never)])],
    ['call before hello', encodeMessage({ t: 'call', cid: 1, rid: 'x', fn: 'empty', args: {} })],
    ['wrong version', encodeMessage({ t: 'hello', v: 99, secret: 'open-sesame' })],
    ['silence', null],
  ];
  // A client connected before the hostile ones must be served throughout.
  const bystander = await goodClient();
  assert.equal((await bystander.call('empty')).t, 'reply');
  for (const [name, bytes] of cases) {
    await sendAndWaitForClose(bytes);
    const reply = (await goodCall()) as { t: string };
    assert.equal(reply.t, 'reply', `the worker still serves after: ${name}`);
    assert.equal((await bystander.call('empty')).t, 'reply', `the connected client is still served after: ${name}`);
  }
  assert.equal(bystander.closed, false);
  bystander.close();
});

test('a function name or argument that names a file reads nothing', async () => {
  const client = await goodClient();
  try {
    for (const fn of ['../../../../etc/passwd', '/etc/passwd', 'faults/fault', '..', 'image.js']) {
      const reply = await client.call(fn);
      assert.equal((reply.err as { code: string } | undefined)?.code, 'unknown_function', fn);
    }
    for (const image of ['../../../../etc/passwd', '/etc/passwd', 'file:///etc/passwd']) {
      const reply = await client.call('image', { width: 16, image });
      assert.equal((reply.err as { code: string } | undefined)?.code, 'bad_input', image);
    }
  } finally {
    client.close();
  }
});

test('a length prefix of gigabytes is refused without allocating it', async () => {
  const before = rssMb(worker.proc.pid!);
  const said = await sendAndWaitForClose(Buffer.concat([encodeMessage({ t: 'hello', v: 1, secret: 'open-sesame' }), Buffer.from([0xff, 0xff, 0xff, 0xf0])]));
  assert.ok(said.length > 0);
  const grew = rssMb(worker.proc.pid!) - before;
  assert.ok(grew < 100, `worker memory grew by ${grew.toFixed(0)} MB`);
  assert.equal(((await goodCall()) as { t: string }).t, 'reply');
});

test('without the shared secret a connection is refused, with a clear reason', async () => {
  // (How refusals are logged: guessing.test.ts.)
  for (const hello of [{ t: 'hello', v: 1, secret: 'guess' }, { t: 'hello', v: 1 }, { t: 'hello', v: 1, secret: 'open-sesame-' }]) {
    const said = await sendAndWaitForClose(encodeMessage(hello as never));
    assert.equal(errorCode(said), 'bad_secret', JSON.stringify(hello));
    const [body] = new FrameDecoder().push(said);
    assert.match(String((decodeMessage(body!) as { message?: string }).message), /hello without the shared secret/);
  }
});

test('a gateway without the secret is refused, says so, and answers 502; with it, it is served', async () => {
  const secret = process.env.FAASBENCH_SECRET;
  delete process.env.FAASBENCH_SECRET; // the gateway's default
  let front: RoleProcess & { ready: Record<string, unknown> };
  try {
    front = await startRole(['gateway', '--framework', 'node', '--port', '0', '--worker', worker.address], 'gateway listening', PATIENT);
  } finally {
    if (secret !== undefined) process.env.FAASBENCH_SECRET = secret;
  }
  try {
    await waitFor(() => front.logs.some((l) => l.includes('worker refused: hello without the shared secret')), 10_000, 'the refusal');
    const res = await fetch(`${front.ready.url as string}/empty`);
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'worker_unavailable');
  } finally {
    await front.stop();
  }
  const good = await startGatewayProcess('node', worker.address, ['--secret', 'open-sesame']);
  try {
    assert.equal((await fetch(`${good.url}/empty`)).status, 200);
  } finally {
    await good.stop();
  }
});

test('a call id already in flight: the duplicate is refused at once, the first call runs and answers', async () => {
  const socket = connect({ port, host: '127.0.0.1' });
  const decoder = new FrameDecoder();
  const replies: Record<string, unknown>[] = [];
  const both = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => {
      for (const body of decoder.push(c)) {
        const m = decodeMessage(body) as unknown as Record<string, unknown>;
        if (m.t === 'reply' && replies.push(m) === 2) resolve();
      }
    });
  });
  // One write: the duplicate certainly arrives while the first call runs.
  socket.write(
    Buffer.concat([
      encodeMessage({ t: 'hello', v: 1, secret: 'open-sesame' }),
      encodeMessage({ t: 'call', cid: 7, rid: 'dup-first', fn: 'sleep', args: { ms: 300 } }),
      encodeMessage({ t: 'call', cid: 7, rid: 'dup-second', fn: 'empty', args: {} }),
    ]),
  );
  try {
    await both;
  } finally {
    socket.destroy();
  }
  const refused = replies.find((r) => r.err !== undefined);
  const answered = replies.find((r) => r.err === undefined);
  assert.equal(refused?.cid, 7);
  assert.equal((refused?.err as { code: string }).code, 'duplicate_cid');
  assert.equal(answered?.cid, 7);
  assert.deepEqual(answered?.result, { slept_ms: 300 });
});

test('finding 4: before its hello is accepted, a client cannot make the worker hold more than a hello', async () => {
  const before = rssMb(worker.proc.pid!);
  // 40 connections each declaring a 32 MiB first frame and sending the start of it.
  const first = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), Buffer.alloc(1024, 7)]);
  const said = await Promise.all(Array.from({ length: 40 }, () => sendAndWaitForClose(first)));
  // Refused from the header, not held until the hello timeout.
  assert.deepEqual([...new Set(said.map(errorCode))], ['bad_frame']);
  const [body] = new FrameDecoder().push(said[0]!);
  assert.match(String((decodeMessage(body!) as { message?: string }).message), /first frame \(the hello\) of 33554432 bytes exceeds the limit of 4096/);
  const grew = rssMb(worker.proc.pid!) - before;
  assert.ok(grew < 100, `worker memory grew by ${grew.toFixed(0)} MB`);
  assert.equal(((await goodCall()) as { t: string }).t, 'reply');
});
