import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameReader } from './frame-reader.js';
import { FrameError, frame } from './framing.js';

/** Feeds `stream` as node would: each read fills at most the buffer asked for, and at most `sizes[k]` bytes. */
function feed(reader: FrameReader, stream: Buffer, sizes: number[]): void {
  let at = 0;
  for (let k = 0; at < stream.length; k++) {
    const into = reader.onread.buffer();
    const n = Math.min(into.length, stream.length - at, Math.max(1, sizes[k % Math.max(1, sizes.length)] ?? into.length));
    stream.copy(into, 0, at, at + n);
    at += n;
    if (!reader.onread.callback(n)) return;
  }
}

test('frames of any size survive any split of the stream, large ones read in place', () => {
  const body = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 16_000, max: 200_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) & 255)));
  fc.assert(
    fc.property(fc.array(body, { maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 20 }), (bodies, sizes) => {
      const out: Buffer[] = [];
      const reader = new FrameReader(1 << 20, (b) => out.push(...b), (err) => assert.fail(err));
      feed(reader, Buffer.concat(bodies.map((b) => frame(b))), sizes);
      assert.equal(out.length, bodies.length);
      for (let i = 0; i < bodies.length; i++) assert.ok(out[i]!.equals(bodies[i]!), `body ${i}`);
    }),
    { numRuns: 150 },
  );
});

test('bodies handed out stay intact when the reader reads on (they are not views of its scratch)', () => {
  const out: Buffer[] = [];
  const reader = new FrameReader(1 << 20, (b) => out.push(...b), (err) => assert.fail(err));
  feed(reader, frame(Buffer.from('first')), []);
  feed(reader, frame(Buffer.from('second, longer')), []);
  assert.deepEqual(out.map(String), ['first', 'second, longer']);
});

test('a length prefix above the limit is refused from the header alone, and reading stops', () => {
  const errors: FrameError[] = [];
  const reader = new FrameReader(1024, () => assert.fail('no body'), (err) => errors.push(err));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(0xffffffff);
  header.copy(reader.onread.buffer());
  assert.equal(reader.onread.callback(4), false);
  assert.ok(errors[0] instanceof FrameError);
});
