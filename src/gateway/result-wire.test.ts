/**
 * The two result forms on the wire (docs/rpc-protocol.md, "Results"), pinned
 * through the real binaries: the bytes a worker sends for a JSON and a raw
 * result, in each form a connection can ask for, and what the gateway and the
 * TCP front answer with them.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { Decoder } from '@msgpack/msgpack';
import payload from '../../functions/payload.js';
import type { FunctionContext } from '../contract/function.js';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { JSON_CTYPE, type HelloMessage } from '../rpc/protocol.js';
import { startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';

const generic = new Decoder({ useBigInt64: true });
const started: RoleProcess[] = [];
let worker: RoleProcess & { address: string };

before(async () => {
  worker = await startWorkerProcess(['--isolation', 'inline']);
  started.push(worker);
});
after(() => Promise.all(started.map((p) => p.stop())));

/** What the payload function answers, as the bytes an HTTP answer carries. */
function expected(bytes: number, format: 'json' | 'raw'): Buffer {
  const value = payload.run({ bytes, format }, {} as FunctionContext);
  return format === 'raw' ? Buffer.from(value as Uint8Array) : Buffer.from(JSON.stringify(value));
}

/** One call on a connection of its own: the reply's frame body, exactly as it came. */
async function replyBody(address: string, hello: Omit<HelloMessage, 't'>, args: Record<string, unknown>): Promise<Buffer> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = connect({ host, port });
  const decoder = new FrameDecoder();
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        for (const body of decoder.push(chunk)) {
          const m = decodeMessage(body);
          if (m.t === 'welcome') {
            assert.equal(m.v, hello.v, 'the welcome speaks the hello\'s version');
            socket.write(encodeMessage({ t: 'call', cid: 9, rid: 'wire', fn: 'payload', args }));
          } else if (m.t === 'reply') resolve(Buffer.from(body));
          else reject(new Error(`unexpected ${m.t}`));
        }
      });
      socket.write(encodeMessage({ t: 'hello', ...hello }));
    });
  } finally {
    socket.destroy();
  }
}

const STAMPS = ['t3_recv', 't3_start', 't3_end'];

for (const [format, bytes] of [
  ['json', 100],
  ['raw', 100],
  ['json', 100 * 1024],
  ['raw', 1024 * 1024],
] as const) {
  test(`protocol 3: a ${format} result of ${bytes} bytes is a body, the answer's very bytes, keys in their order`, async () => {
    const frame = await replyBody(worker.address, { v: 3 }, { bytes, format });
    const reply = generic.decode(frame) as Record<string, unknown>;
    assert.deepEqual(Object.keys(reply), ['t', 'cid', 'ctype', ...STAMPS, 'body', 't3_send']);
    assert.equal(reply.t, 'reply');
    assert.equal(reply.cid, 9);
    assert.equal(reply.ctype, format === 'json' ? JSON_CTYPE : 'application/octet-stream');
    assert.ok(Buffer.from(reply.body as Uint8Array).equals(expected(bytes, format)), 'the body is the JSON text or the raw bytes');
    // The body is msgpack bin (never str), and t3_send its frame's last 8 bytes.
    const at = frame.length - 17 - bytes;
    assert.equal(frame[at - (bytes < 256 ? 2 : bytes < 65536 ? 3 : 5)], bytes < 256 ? 0xc4 : bytes < 65536 ? 0xc5 : 0xc6);
    assert.equal(frame.readBigUInt64BE(frame.length - 8), reply.t3_send);
    for (const k of [...STAMPS, 't3_send']) assert.equal(typeof reply[k], 'bigint', `${k} is a uint64`);
  });
}

for (const hello of [{ v: 1 }, { v: 2 }, { v: 3, results: 'value' as const }]) {
  test(`${JSON.stringify(hello)}: results are msgpack values, as in protocol 1`, async () => {
    const json = generic.decode(await replyBody(worker.address, hello, { bytes: 100, format: 'json' })) as Record<string, unknown>;
    assert.equal(json.body, undefined);
    assert.deepEqual(json.result, payload.run({ bytes: 100, format: 'json' }, {} as FunctionContext));
    assert.equal(json.ctype, undefined);
    const raw = generic.decode(await replyBody(worker.address, hello, { bytes: 100, format: 'raw' })) as Record<string, unknown>;
    assert.ok(raw.result instanceof Uint8Array && Buffer.from(raw.result).equals(expected(100, 'raw')), 'bytes as msgpack bin');
    assert.equal(raw.ctype, 'application/octet-stream');
  });
}

test('the gateway answers the worker\'s bytes as they came, and --results decode answers the same bytes', async () => {
  const forward = await startGatewayProcess('node', worker.address);
  started.push(forward);
  const decode = await startGatewayProcess('fastify', worker.address, ['--results', 'decode']);
  started.push(decode);
  for (const [format, bytes] of [
    ['json', 100 * 1024],
    ['raw', 100 * 1024],
  ] as const) {
    for (const gw of [forward, decode]) {
      const r = await fetch(`${gw.url}/payload?bytes=${bytes}&format=${format}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), format === 'json' ? JSON_CTYPE : 'application/octet-stream');
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(expected(bytes, format)), `${gw.args.join(' ')}: ${format}`);
    }
  }
});

test('the TCP front hands each caller the form its hello asked for', async () => {
  const front = await startGatewayProcess('tcp', worker.address);
  started.push(front);
  const address = front.url.slice('tcp://'.length);
  const body = generic.decode(await replyBody(address, { v: 3 }, { bytes: 300, format: 'json' })) as Record<string, unknown>;
  assert.ok(Buffer.from(body.body as Uint8Array).equals(expected(300, 'json')));
  assert.equal(body.ctype, JSON_CTYPE);
  const value = generic.decode(await replyBody(address, { v: 1 }, { bytes: 300, format: 'json' })) as Record<string, unknown>;
  assert.deepEqual(value.result, payload.run({ bytes: 300, format: 'json' }, {} as FunctionContext));
});
