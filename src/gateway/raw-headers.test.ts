import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import { rawHeader } from './raw-headers.js';

// The headers the gateway reads this way, and others, in any case, repeated.
const NAMES = ['host', 'x-request-id', 'traceparent', 'x-faasbench-call', 'content-length', 'transfer-encoding', 'accept'];
const FIRST = new Set(['host', 'content-length']);
const casing = (name: string) => fc.constantFrom(name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1));
const line = fc.constantFrom(...NAMES).chain((n) => fc.tuple(casing(n), fc.string({ maxLength: 12 })));

test('rawHeader values a header as node\'s req.headers does, from the raw lines', () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 10 }), (lines) => {
      const raw = lines.flat();
      // node's parser hands a request its header lines so.
      const message = new IncomingMessage(null as never) as IncomingMessage & { _addHeaderLines(lines: string[], n: number): void };
      message._addHeaderLines(raw, raw.length);
      for (const name of NAMES) assert.equal(rawHeader(raw, name, FIRST.has(name)), message.headers[name], name);
    }),
    { numRuns: 500 },
  );
});
