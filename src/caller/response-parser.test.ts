import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, ResponseParser } from './response-parser.js';

/** Feeds the response in every possible two-piece split, and byte by byte. */
function splits(raw: string): Buffer[][] {
  const buf = Buffer.from(raw, 'latin1');
  const out: Buffer[][] = [[buf], [...buf].map((b) => Buffer.from([b]))];
  for (let i = 1; i < buf.length; i++) out.push([buf.subarray(0, i), buf.subarray(i)]);
  return out;
}

function parse(raw: string, expectBody = true): ResponseParser {
  let last: ResponseParser | null = null;
  for (const pieces of splits(raw)) {
    const p = new ResponseParser();
    p.reset(expectBody);
    const done = pieces.map((piece) => p.execute(piece));
    assert.equal(done.at(-1), true, `complete at the end: ${JSON.stringify(raw)}`);
    assert.ok(done.slice(0, -1).every((d) => !d), 'not complete before the end');
    assert.equal(p.bytes, Buffer.byteLength(raw, 'latin1'));
    last = p;
  }
  return last!;
}

test('content-length bodies, in any split', () => {
  const p = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello');
  assert.equal(p.status, 200);
  assert.equal(p.keepAlive, true);
});

test('chunked bodies with extensions and trailers', () => {
  const p = parse('HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0A\r\n0123456789\r\n0\r\nT: 1\r\n\r\n');
  assert.equal(p.status, 201);
});

test('no body for 204, 304 and HEAD; interim 100 is skipped', () => {
  assert.equal(parse('HTTP/1.1 204 No Content\r\n\r\n').status, 204);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', false).status, 200);
  assert.equal(parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok').status, 200);
});

test('connection: close and HTTP/1.0 end keep-alive', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').keepAlive, true);
});

test('a body without length ends at close', () => {
  const p = new ResponseParser();
  p.reset(true);
  assert.equal(p.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome body')), false);
  assert.equal(p.endOfStream(), true);
  assert.equal(p.keepAlive, false);
});

test('malformed input is a ParseError', () => {
  for (const raw of [
    'garbage\r\n\r\n',
    'HTTP/1.1 2x0 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab',
  ]) {
    const p = new ResponseParser();
    p.reset(true);
    assert.throws(() => p.execute(Buffer.from(raw)), ParseError, raw);
  }
  const idle = new ResponseParser();
  assert.throws(() => idle.execute(Buffer.from('x')), ParseError, 'data with no request outstanding');
});
