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
  res.end(a.body);
}

/** An error as raw HTTP/1.1 bytes, for a connection node's parser refused before there was a request; it closes. */
export function rawErrorResponse(code: ErrorCode, message: string): string {
  const status = ERRORS[code];
  const body = errorBody(code, message);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
