import type { FaasFunction } from '../src/contract/function.js';
import { InputError } from '../src/contract/function.js';

export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const FORMATS = ['json', 'raw'];

/**
 * Answers a payload of exactly `bytes` bytes, as JSON (the encoded answer
 * is that long) or as raw bytes: the probe for what size and format cost
 * between the function and the caller. Payloads are made once and kept, so
 * the function's own time stays flat while the bytes grow.
 */
const payload: FaasFunction = {
  contentType: 'application/octet-stream',
  run(args) {
    const bytes = args.bytes ?? 1024;
    const format = args.format ?? 'json';
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_PAYLOAD_BYTES) {
      throw new InputError(`bytes must be an integer from 1 to ${MAX_PAYLOAD_BYTES}`);
    }
    if (typeof format !== 'string' || !FORMATS.includes(format)) throw new InputError('format must be json or raw');
    const key = `${format}:${bytes}`;
    let value = cache.get(key);
    if (value === undefined) {
      value = format === 'raw' ? rawPayload(bytes) : jsonPayload(bytes);
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(key, value);
    }
    return value;
  },
};
export default payload;

/** A sweep's sizes, each format: few enough to keep (at most about 8 × 30 MB of heap). */
const CACHE_ENTRIES = 8;
const cache = new Map<string, unknown>();

/** Printable, repeating bytes: what a compressor could shrink if asked to. */
function rawPayload(bytes: number): Uint8Array {
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) out[i] = 97 + (i % 26);
  return out;
}

/**
 * A value whose JSON is exactly `bytes` long: from 21 bytes an object
 * {"items":[{"i":0,"s":"…"},…],"pad":"…"}, many small records as an API
 * would answer, padded to the size; below that the smallest JSON of the size
 * (0, "", "a", …).
 */
export function jsonPayload(bytes: number): unknown {
  if (bytes === 1) return 0;
  if (bytes < 21) return 'x'.repeat(bytes - 2);
  const items: { i: number; s: string }[] = [];
  let size = '{"items":[],"pad":""}'.length;
  for (let i = 0; ; i++) {
    const item = { i, s: 'abcdefghijklmnop' };
    const grow = JSON.stringify(item).length + (items.length > 0 ? 1 : 0);
    if (size + grow > bytes) break;
    items.push(item);
    size += grow;
  }
  return { items, pad: 'x'.repeat(bytes - size) };
}
