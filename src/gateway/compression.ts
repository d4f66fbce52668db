/**
 * Response compression: one setting (`--compression`) and one set of
 * parameters for the five adapters, so that each framework's own middleware
 * decides alike: the same coding, threshold, level and compressible types.
 */
import type { IncomingMessage } from 'node:http';
import { brotliCompress, constants, gzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';

export const COMPRESSIONS = ['none', 'gzip', 'br'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export type Coding = Exclude<Compression, 'none'>;

/** Bodies below this many bytes go out as they are (every middleware's own default). */
export const COMPRESSION_THRESHOLD_BYTES = 1024;
/** zlib's default gzip level. */
export const GZIP_OPTIONS: ZlibOptions = { level: 6 };
/** Quality 4, the default of compression, koa-compress and @fastify/compress (zlib's own 11 is far slower). */
export const BROTLI_OPTIONS: BrotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

/**
 * The content types compressed, handed to every middleware as its filter so
 * that none decides by its own list: text, JSON, XML, JavaScript and raw
 * bytes (application/octet-stream, which mime-db, and so @fastify/compress
 * whatever its filter, counts as compressible). JPEG goes out as it is.
 */
export const COMPRESSIBLE = /^\s*(?:text\/[^;\s]+|application\/(?:json|javascript|xml|octet-stream)|application\/[^;\s]+\+(?:json|xml))\s*(?:;|$)/i;

/** Whether an Accept-Encoding header accepts `coding` (an explicit q=0 refuses it, `*` stands for it otherwise). */
export function acceptsCoding(header: string | undefined, coding: Coding): boolean {
  if (!header) return false;
  let wildcard = false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const accepted = qParam === undefined || Number(qParam.slice(2)) > 0;
    if (name === coding) return accepted;
    if (name === '*') wildcard = accepted;
  }
  return wildcard;
}

/**
 * Leaves the request's Accept-Encoding as just the gateway's coding when the
 * client accepts it, and removes it otherwise: the five middlewares then
 * negotiate the same answer (express's compression cannot be told to offer
 * only one coding, and would pick br from "gzip, br").
 */
export function narrowAcceptEncoding(req: IncomingMessage, compression: Compression): void {
  const header = req.headers['accept-encoding'];
  if (header === undefined) return;
  const keep = compression !== 'none' && acceptsCoding(header, compression) ? compression : null;
  if (keep === null) delete req.headers['accept-encoding'];
  else req.headers['accept-encoding'] = keep;
  // hono's node server reads rawHeaders, not headers.
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i]!.toLowerCase() !== 'accept-encoding') continue;
    if (keep === null) raw.splice(i, 2);
    else raw[i + 1] = keep;
  }
}

/** Whether an answer of this type and size is compressed for a request whose (narrowed) Accept-Encoding is `header`. */
export function shouldCompress(coding: Coding, header: string | undefined, contentType: string, bytes: number, method: string): boolean {
  return method !== 'HEAD' && bytes >= COMPRESSION_THRESHOLD_BYTES && COMPRESSIBLE.test(contentType) && acceptsCoding(header, coding);
}

/** node's zlib, for the plain adapter (and hono's br, see hono.ts), with the shared parameters. */
export function compressBody(coding: Coding, body: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (coding === 'gzip') gzip(body, GZIP_OPTIONS, done);
    else brotliCompress(body, BROTLI_OPTIONS, done);
  });
}
