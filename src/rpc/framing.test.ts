import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, encodeReply, ProtocolError, writeSendStamp } from './codec.js';
import { FrameDecoder, FrameError, frame } from './framing.js';
import type { ReplyMessage } from './protocol.js';

test('frames survive any split of the byte stream', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (bodies, cuts) => {
      const stream = Buffer.concat(bodies.map((b) => frame(b)));
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      const decoder = new FrameDecoder();
      const out: Buffer[] = [];
      let from = 0;
      for (const p of [...points, stream.length]) {
        out.push(...decoder.push(stream.subarray(from, p)));
        from = p;
      }
      assert.deepEqual(out.map((b) => Buffer.from(b).toString('hex')), bodies.map((b) => Buffer.from(b).toString('hex')));
      assert.equal(decoder.pending, 0);
    }),
  );
});

test('a length prefix above the limit is refused from the header alone', () => {
  const decoder = new FrameDecoder(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffffffff);
  assert.throws(() => decoder.push(header), FrameError);
});

test('random bytes never crash the decoder: they yield frames or a FrameError/ProtocolError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      const decoder = new FrameDecoder(4096);
      try {
        for (const body of decoder.push(Buffer.from(bytes))) {
          try {
            decodeMessage(body);
          } catch (err) {
            assert.ok(err instanceof ProtocolError, String(err));
          }
        }
      } catch (err) {
        assert.ok(err instanceof FrameError, String(err));
      }
    }),
  );
});

test('calls round-trip, binary arguments stay binary', () => {
  const image = new Uint8Array([0, 1, 2, 255]);
  const bytes = encodeMessage({ t: 'call', cid: 7, rid: 'r-1', fn: 'image', args: { width: 10, image } });
  const [body] = new FrameDecoder().push(bytes);
  const call = decodeMessage(body!);
  assert.equal(call.t, 'call');
  if (call.t !== 'call') return;
  assert.equal(call.rid, 'r-1');
  assert.ok(call.args.image instanceof Uint8Array);
  assert.deepEqual([...(call.args.image as Uint8Array)], [0, 1, 2, 255]);
});

test('t3_send is written into an encoded reply without re-encoding, exactly, beyond 2^53', () => {
  const stamp = 2n ** 60n + 12345n;
  const replyFrame = encodeReply({ t: 'reply', cid: 1, result: { pi: 3.14 }, t3_recv: 1n, t3_start: 2n, t3_end: 3n });
  writeSendStamp(replyFrame, stamp);
  const [body] = new FrameDecoder().push(replyFrame);
  const reply = decodeMessage(body!) as ReplyMessage;
  assert.equal(reply.t3_send, stamp);
  assert.equal(reply.t3_end, 3n);
  assert.deepEqual(reply.result, { pi: 3.14 });
});

test('malformed messages are protocol errors', () => {
  const frames = [
    encodeMessage({ t: 'nonsense' } as never),
    encodeMessage({ t: 'call', cid: 'x', rid: 1, fn: 2 } as never),
    encodeMessage({ t: 'reply', cid: 1, t3_recv: 1 } as never),
    frame(Buffer.from([0xc1])),
    frame(Buffer.from([0x05])),
  ];
  for (const f of frames) {
    const [body] = new FrameDecoder().push(f);
    assert.throws(() => decodeMessage(body!), ProtocolError);
  }
});
