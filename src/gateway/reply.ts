import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Answer } from './core.js';
import { errorBody, ERRORS, JSON_TYPE, type ErrorCode } from '../contract/errors.js';

/** Writes an answer through node's own response: the node adapter's reply path, and the gate's in front of every framework. */
export function writeAnswer(res: ServerResponse, a: Answer): void {
  // A flat array, as writeHead() takes it: no object built and walked key by key per answer.
  const length = typeof a.body === 'string' ? Buffer.byteLength(a.body) : a.body.length;
  res.writeHead(
    a.status,
    a.serverTiming === undefined
      ? ['content-type', a.contentType, 'content-length', length, 'x-request-id', a.requestId]
      : ['content-type', a.contentType, 'content-length', length, 'x-request-id', a.requestId, 'server-timing', a.serverTiming],
  );
  res.end(typeof a.body === 'string' ? a.body : asText(a.body));
}

/** Bodies up to this size that are ASCII go to node as text. */
const TEXT_BYTES = 1024;

/**
 * A small ASCII body as the same bytes in a string: node writes a string
 * body in one piece with the head (one string, one buffer to the socket), a
 * Buffer as a part of its own beside it (a writev of the parts). Larger or
 * non-ASCII bodies stay bytes, not copied.
 */
export function asText(body: Buffer): string | Buffer {
  if (body.length > TEXT_BYTES) return body;
  for (let i = 0; i < body.length; i++) if (body[i]! > 0x7f) return body;
  return body.toString('latin1');
}

/** An error as raw HTTP/1.1 bytes, for a connection node's parser refused before there was a request; it closes. */
export function rawErrorResponse(code: ErrorCode, message: string): string {
  const status = ERRORS[code];
  const body = errorBody(code, message);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
