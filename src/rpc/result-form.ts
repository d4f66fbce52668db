/**
 * A result's two forms on the wire (docs/rpc-protocol.md, "Results"): a
 * `body`, the bytes an answer needs (a value's JSON text, or raw bytes with
 * their content type), or a msgpack `value`. Whoever runs the function makes
 * the form its connection asked for; these turn one into the other only where
 * a result crosses between connections of different forms (the TCP front).
 */
import { JSON_CTYPE } from './protocol.js';

export const OCTET_STREAM = 'application/octet-stream';

/** A body not yet written: bytes, or JSON text that the frame encodes once. */
export type Body = Uint8Array | string;

/**
 * The body of a value: raw bytes as they are, with the function's content
 * type; anything else as its JSON text, as a function runtime answers.
 * Throws what JSON.stringify throws (a BigInt, a cycle).
 */
export function bodyOf(value: unknown, contentType: string | undefined): { body: Body; ctype: string } {
  if (value instanceof Uint8Array) return { body: value, ctype: contentType ?? OCTET_STREAM };
  // undefined, a function or a symbol have no JSON text: the answer is null, as a value form's nil.
  return { body: JSON.stringify(value) ?? 'null', ctype: JSON_CTYPE };
}

/** The value a body stands for: JSON text parsed, other bytes as msgpack bin with their content type. */
export function valueOf(body: Body, ctype: string | undefined): { result: unknown; ctype?: string } {
  if (ctype === JSON_CTYPE) return { result: JSON.parse(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) };
  return { result: typeof body === 'string' ? Buffer.from(body) : body, ctype: ctype ?? OCTET_STREAM };
}
