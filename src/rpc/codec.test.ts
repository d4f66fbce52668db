import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { Decoder, Encoder } from '@msgpack/msgpack';
import fc from 'fast-check';
import { BODY_PART_BYTES, decodeMessage, encodeBodyReply, encodeCall, encodeMessage, encodeReply, ProtocolError, skip, utf8Length, writeSendStamp } from './codec.js';
import type { CallMessage, ReplyMessage } from './protocol.js';

// msgpack refuses a __proto__ key on both paths alike.
const key = fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__');
const generic = new Decoder({ useBigInt64: true });
const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });

// Values msgpack round-trips as themselves (no undefined, no -0, no sparse arrays).
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc.uint8Array({ maxLength: 70_000 }),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(key, tie('node'), { maxKeys: 5, noNullPrototype: true })),
})).node;

test('encodeCall writes the bytes encodeMessage writes, for any ids, names, arguments and trace id', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true }),
      fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: null }),
      (cid, rid, fn, args, tp) => {
        const ours = encodeCall(cid, rid, fn, args, tp);
        const message = tp === null ? { t: 'call' as const, cid, rid, fn, args } : { t: 'call' as const, cid, rid, fn, args, tp };
        assert.deepEqual(generic.decode(ours.subarray(4)), generic.decode(encodeMessage(message).subarray(4)));
        assert.equal(ours.readUInt32BE(0), ours.length - 4, 'the length prefix');
        const read = decodeMessage(ours.subarray(4)) as CallMessage;
        assert.deepEqual([read.cid, read.rid, read.fn, read.tp], [cid, rid, fn, tp ?? undefined], 'the worker reads the call');
      },
    ),
    { numRuns: 300 },
  );
});

test('a call frame with a nesting carries it, and its arguments intact, to the worker', () => {
  fc.assert(
    fc.property(
      fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true }),
      fc.option(fc.stringMatching(/^[0-9a-f]{32}$/), { nil: null }),
      fc.integer({ min: 1, max: 100 }),
      fc.nat({ max: 1e9 }),
      fc.array(fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/), { maxLength: 4 }),
      (args, tp, depth, budgetMs, workflows) => {
        const nest = { parent: 'req-1.2', depth, budgetMs, workflows };
        const read = decodeMessage(encodeCall(7, 'req-1.2.1', 'fn', args, tp, nest).subarray(4)) as CallMessage;
        assert.deepEqual(read.nest, nest);
        const plain = generic.decode(encodeMessage({ t: 'call', cid: 7, rid: 'r', fn: 'f', args }).subarray(4)) as CallMessage;
        assert.deepEqual(read.args, plain.args, 'the arguments, not overwritten by the nesting');
        assert.equal(read.tp, tp ?? undefined);
      },
    ),
    { numRuns: 200 },
  );
});

const stamp = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

test('a reply read key by key equals the generic decoder, whatever its result, error and stamps', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.option(value, { nil: undefined }),
      fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
      fc.option(fc.record({ code: fc.string({ maxLength: 20 }), message: fc.string({ maxLength: 200 }) }), { nil: undefined }),
      fc.tuple(stamp, stamp, stamp, stamp),
      (cid, result, ctype, err, [recv, start, end, send]) => {
        const reply = { t: 'reply' as const, cid, result, ctype, err, t3_recv: recv, t3_start: start, t3_end: end };
        const frame = encodeReply(reply);
        frame.writeBigUInt64BE(send, frame.length - 8);
        const body = frame.subarray(4);
        const expected = generic.decode(body) as ReplyMessage;
        assert.deepEqual(decodeMessage(body), expected);
        assert.equal((decodeMessage(body) as ReplyMessage).t3_send, send);
      },
    ),
    { numRuns: 300 },
  );
});

test('a body reply, from JSON text or bytes, in one buffer or in parts, reads as the generic decoder reads it', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.oneof(fc.string({ unit: 'grapheme', maxLength: 2000 }), fc.uint8Array({ maxLength: 3000 }), fc.constant(new Uint8Array(BODY_PART_BYTES + 7).fill(7))),
      fc.string({ maxLength: 60 }),
      fc.tuple(stamp, stamp, stamp, stamp),
      (cid, body, ctype, [recv, start, end, send]) => {
        const frame = encodeBodyReply(cid, body, ctype, recv, start, end);
        writeSendStamp(frame, send);
        const whole = Array.isArray(frame) ? Buffer.concat(frame) : frame;
        assert.equal(Array.isArray(frame), typeof body !== 'string' && body.length >= BODY_PART_BYTES, 'only large bytes go apart');
        assert.equal(whole.readUInt32BE(0), whole.length - 4, 'the length prefix');
        const decoded = generic.decode(whole.subarray(4)) as ReplyMessage;
        const expected = { ...decoded, body: new Uint8Array(decoded.body!) };
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        assert.deepEqual(expected, { t: 'reply', cid, ctype, t3_recv: recv, t3_start: start, t3_end: end, body: new Uint8Array(bytes), t3_send: send });
        const read = decodeMessage(whole.subarray(4)) as ReplyMessage;
        assert.deepEqual({ ...read, body: new Uint8Array(read.body!) }, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('replies the fast reader does not know go to the generic decoder: other key orders, extra keys, wider types', () => {
  const stamps = { t3_recv: 1n, t3_start: 2n, t3_end: 3n, t3_send: 4n };
  const cases: Record<string, unknown>[] = [
    { ...stamps, cid: 7, t: 'reply', result: 'x' }, // another order
    { t: 'reply', cid: 7, result: 1, extra: true, ...stamps }, // a key of a later version
    { t: 'reply', cid: 7, t3_recv: 1, t3_start: 2n, t3_end: 3n, t3_send: 4n }, // a stamp that is not a uint64
    { t: 'reply', cid: 7n, ...stamps }, // a uint64 cid
  ];
  for (const c of cases) {
    const body = encoder.encode(c);
    let expected: unknown;
    try {
      expected = generic.decode(body);
      if (typeof (expected as { t3_recv: unknown }).t3_recv !== 'bigint' || typeof (expected as { cid: unknown }).cid !== 'number') expected = ProtocolError;
    } catch {
      expected = ProtocolError;
    }
    if (expected === ProtocolError) assert.throws(() => decodeMessage(body), ProtocolError, JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    else assert.deepEqual(decodeMessage(body), expected);
  }
});

test('a truncated or corrupt reply is refused, never misread', () => {
  const frame = encodeReply({ t: 'reply', cid: 3, result: { answer: [1, 'two', new Uint8Array(300)] }, t3_recv: 1n, t3_start: 2n, t3_end: 3n });
  const body = frame.subarray(4);
  for (let n = 0; n < body.length; n++) assert.throws(() => decodeMessage(body.subarray(0, n)), ProtocolError, `cut at ${n}`);
  const extra = Buffer.concat([body, Buffer.from([0xc0])]);
  assert.throws(() => decodeMessage(extra), ProtocolError, 'a byte after the map');
});

test('skip finds the end of any msgpack value, and -1 for a cut one', () => {
  fc.assert(
    fc.property(value, (v) => {
      const bytes = Buffer.from(encoder.encode(v));
      assert.equal(skip(bytes, 0), bytes.length);
      if (bytes.length > 1) assert.equal(skip(bytes.subarray(0, bytes.length - 1), 0), -1);
    }),
    { numRuns: 300 },
  );
  assert.equal(skip(Buffer.from([0xc1]), 0), -1, '0xc1 is never used');
});

test('encoding one large message leaves no buffer of its size behind (the encoder does not keep its largest buffer)', () => {
  // In a child with --expose-gc: Buffers after one 8 MiB reply is encoded, sent (dropped) and collected, against before.
  const script = `
    const { encodeMessage } = await import(${JSON.stringify(new URL('./codec.js', import.meta.url).href)});
    const settle = async () => { for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); } };
    encodeMessage({ t: 'reply', cid: 1, result: { x: 1 } });
    await settle();
    const before = process.memoryUsage().arrayBuffers;
    let frame = encodeMessage({ t: 'reply', cid: 2, result: { bytes: new Uint8Array(8 * 2 ** 20).fill(7) } });
    frame = null;
    encodeMessage({ t: 'reply', cid: 3, result: { x: 1 } });
    await settle();
    process.stdout.write(String((process.memoryUsage().arrayBuffers - before) / 2 ** 20));`;
  const kept = Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 }));
  assert.ok(kept < 2, `${kept.toFixed(1)} MiB of Buffers kept after the message was dropped`);
});

test('utf8Length counts the bytes Buffer.byteLength counts, for any string', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ maxLength: 70 })), (s) => {
      assert.equal(utf8Length(s), Buffer.byteLength(s));
    }),
    { numRuns: 1000 },
  );
});

test('each reply reads back its own content type, however the types alternate', () => {
  // Same lengths and a shared prefix, so that a type kept from the reply before cannot pass for the next one.
  const types = ['text/plain', 'text/plaim', 'application/json; charset=utf-8', 'application/json; charset=utf-9', 'x/é', 'x/è', 'text/plain'];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...types), { minLength: 1, maxLength: 20 }), (order) => {
      for (const ctype of order) {
        const frame = encodeBodyReply(3, 'hi', ctype, 1n, 2n, 3n) as Buffer;
        assert.equal((decodeMessage(frame.subarray(4)) as ReplyMessage).ctype, ctype);
      }
    }),
  );
});
