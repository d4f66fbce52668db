import assert from 'node:assert/strict';
import { test } from 'node:test';
import payload, { jsonPayload, MAX_PAYLOAD_BYTES } from './payload.js';

const context = { signal: new AbortController().signal, assetsDir: '', timeoutMs: 1000, instance: 'test', call: () => Promise.reject(new Error('no calls here')) };

test('the JSON payload encodes to exactly the size asked for', () => {
  for (const bytes of [1, 2, 3, 7, 20, 21, 22, 45, 46, 1000, 1024, 65_536, 1_000_003]) {
    assert.equal(Buffer.byteLength(JSON.stringify(jsonPayload(bytes))), bytes, `bytes=${bytes}`);
  }
});

test('the raw payload is exactly the size asked for', () => {
  for (const bytes of [1, 26, 4096]) {
    const out = payload.run({ bytes, format: 'raw' }, context) as Uint8Array;
    assert.ok(out instanceof Uint8Array);
    assert.equal(out.length, bytes);
  }
});

test('a size or format out of range is an input error', () => {
  for (const args of [{ bytes: 0 }, { bytes: MAX_PAYLOAD_BYTES + 1 }, { bytes: 1.5 }, { bytes: '10' }, { format: 'xml' }]) {
    assert.throws(() => payload.run(args, context), { name: 'InputError' }, JSON.stringify(args));
  }
});
