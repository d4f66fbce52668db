import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { asText } from './reply.js';

test('asText gives a small ASCII body as a string of the same bytes, and any other body as it was', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 1100 }), fc.uint8Array({ max: 0x7f, maxLength: 1100 }), fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => new TextEncoder().encode(s))),
      (bytes) => {
        const body = Buffer.from(bytes);
        const out = asText(body);
        const ascii = body.every((b) => b <= 0x7f);
        if (body.length <= 1024 && ascii) {
          assert.equal(typeof out, 'string');
          assert.deepEqual(Buffer.from(out as string, 'utf8'), body, 'the same bytes, as node writes a string');
        } else {
          assert.equal(out, body, 'the body itself, not a copy');
        }
      },
    ),
    { numRuns: 500 },
  );
});
