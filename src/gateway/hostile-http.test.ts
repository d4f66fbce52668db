/**
 * Hostile HTTP against all five frameworks: clear JSON errors, identical
 * across adapters, and the gateway stays up.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { FRAMEWORKS } from './adapters/adapter.js';

const MAX_BODY = 65_536;
let worker: RoleProcess & { address: string };
const gateways = new Map<string, RoleProcess & { url: string }>();

before(async () => {
  worker = await startWorkerProcess();
  // A small body limit, so that an oversized upload is cheap to send.
  for (const fw of FRAMEWORKS) gateways.set(fw, await startGatewayProcess(fw, worker.address, ['--max-body-bytes', String(MAX_BODY)]));
});
after(async () => {
  for (const g of gateways.values()) await g.stop();
  await worker?.stop();
});

/** Sends raw bytes and returns the status line and body of the answer. A
 *  server may answer (413) and close before it has read the whole request:
 *  the error of writing the rest is then not a failure. */
function raw(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let failure: Error | null = null;
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => (failure = err));
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (!text.startsWith('HTTP/1.1 ')) return reject(failure ?? new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 80))}`));
      const status = Number(text.slice(9, 12));
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const H = 'Host: x\r\nConnection: close\r\n';
const get = (target: string) => `GET ${target} HTTP/1.1\r\n${H}\r\n`;
const post = (target: string, headers: string, body: string) => `POST ${target} HTTP/1.1\r\n${H}${headers}\r\n${body}`;
const sized = (type: string, body: string) => post('/image', `Content-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`, body);
const tooBig = 'x'.repeat(MAX_BODY + 1);

const cases: Array<[string, string, number, string]> = [
  ['overlong URL', `GET /sleep?ms=${'9'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 431, 'header_too_large'],
  ['overlong header', `GET /empty HTTP/1.1\r\nHost: x\r\nX-Junk: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 431, 'header_too_large'],
  ['unknown method', 'BREW /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'bad_parameter'],
  ['garbage request line', 'hello there\r\n\r\n', 400, 'bad_parameter'],
  ['bad content-length', 'POST /image HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n', 400, 'bad_parameter'],
  ['path traversal', 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
  ['encoded traversal', 'GET /image/..%2f..%2fetc%2fpasswd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
  ['huge width', 'GET /image?width=1e308 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'bad_parameter'],
  ['non-numeric n', 'GET /math?n=NaN HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'bad_parameter'],
  ['negative ms', get('/sleep?ms=-1'), 400, 'bad_parameter'],
  ['fractional ms', get('/sleep?ms=1.5'), 400, 'bad_parameter'],
  ['ms above its range', get('/sleep?ms=25001'), 400, 'bad_parameter'],
  ['empty ms', get('/sleep?ms='), 400, 'bad_parameter'],
  ['empty n', get('/math?n='), 400, 'bad_parameter'],
  ['ms given twice', get('/sleep?ms=1&ms=2'), 400, 'bad_parameter'],
  ['signed ms', get('/sleep?ms=+1'), 400, 'bad_parameter'],
  ['bad percent-encoding', get('/sleep?ms=%zz'), 400, 'bad_parameter'],
  ['n beyond 2^53', get('/math?n=99999999999999999999'), 400, 'bad_parameter'],
  ['hex n', get('/math?n=0x10'), 400, 'bad_parameter'],
  ['zero width', get('/image?width=0'), 400, 'bad_parameter'],
  ['width above its range', get('/image?width=4097'), 400, 'bad_parameter'],
  ['unknown fault kind', get('/fault?kind=constructor'), 400, 'bad_parameter'],
  ['traversal in a parameter', get('/image?width=..%2f..%2fetc%2fpasswd'), 400, 'bad_parameter'],
  ['known route, other method', 'DELETE /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405, 'method_not_allowed'],
  ['PUT on /image', 'PUT /image HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 405, 'method_not_allowed'],
  ['upper-case path', get('/EMPTY'), 404, 'not_found'],
  ['trailing slash', get('/empty/'), 404, 'not_found'],
  ['empty upload', sized('image/jpeg', ''), 400, 'bad_parameter'],
  ['upload that is not an image', sized('image/jpeg', 'hello world'), 400, 'bad_input'],
  ['upload without a content type', post('/image', 'Content-Length: 5\r\n', 'hello'), 400, 'bad_input'],
  ['upload labelled as malformed JSON', sized('application/json', '{bad'), 400, 'bad_input'],
  ['upload labelled as JSON', sized('application/json', '{"a":1}'), 400, 'bad_input'],
  ['upload labelled as text', sized('text/plain', 'hello world'), 400, 'bad_input'],
  ['a file path as the upload', sized('text/plain', '../../../../etc/passwd'), 400, 'bad_input'],
  ['oversized upload', sized('image/jpeg', tooBig), 413, 'payload_too_large'],
  ['oversized chunked upload', post('/image', 'Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n', `${tooBig.length.toString(16)}\r\n${tooBig}\r\n0\r\n\r\n`), 413, 'payload_too_large'],
  ['declared oversized, nothing sent', post('/image', `Content-Type: image/jpeg\r\nContent-Length: ${MAX_BODY * 1000}\r\n`, ''), 413, 'payload_too_large'],
  ['bad chunk size', post('/image', 'Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n'), 400, 'bad_parameter'],
  ['both content-length and chunked', post('/image', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), 400, 'bad_parameter'],
  ['no Host header', 'GET /empty HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'bad_parameter'],
  ['asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
  ['backslash in the path', get('/empty\\..\\x'), 404, 'not_found'],
  ['two content-lengths', post('/image', 'Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), 400, 'bad_parameter'],
  ['QUERY on a known route', 'QUERY /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405, 'method_not_allowed'],
  ...['PROPFIND', 'COPY', 'LOCK', 'MKCOL', 'MOVE', 'PROPPATCH', 'SEARCH', 'UNLOCK', 'REPORT', 'PURGE', 'LINK', 'UNLINK', 'M-SEARCH'].map(
    (m): [string, string, number, string] => [`${m} on a known route`, `${m} /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 405, 'method_not_allowed'],
  ),
  ...['a b', '', 'x:99999', 'x:abc', '[::1', '[zz]', 'x/y', 'x@y', 'x:1:2', '<x>', 'x?y', 'x#y', '"x"', 'x\ty'].map(
    (h): [string, string, number, string] => [`malformed Host ${JSON.stringify(h)}`, `GET /empty HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`, 400, 'bad_parameter'],
  ),
  ['absolute form with a bad port', get('http://x:99999/empty'), 400, 'bad_parameter'],
  ['absolute form with user info', get('http://u@x/empty'), 400, 'bad_parameter'],
  ['a fragment on a wrong route', get('/nowhere#f'), 404, 'not_found'],
  ['the 1001st parameter is read too', get(`/sleep?${Array.from({ length: 1000 }, (_, i) => `p${i}=1`).join('&')}&ms=x`), 400, 'bad_parameter'],
];

test('hostile requests get the same clear JSON error from every framework', async () => {
  for (const [name, request, status, code] of cases) {
    const bodies = new Set<string>();
    for (const [fw, gw] of gateways) {
      const r = await raw(gw.url, request).catch((err: Error) => assert.fail(`${fw}: ${name}: ${err.message}`));
      assert.equal(r.status, status, `${fw}: ${name}: ${r.body.slice(0, 200)}`);
      const parsed = JSON.parse(r.body) as { error: { code: string } };
      assert.equal(parsed.error.code, code, `${fw}: ${name}`);
      bodies.add(r.body);
    }
    assert.equal(bodies.size, 1, `${name}: one answer across frameworks, got ${[...bodies].join(' | ')}`);
  }
  for (const [fw, gw] of gateways) {
    assert.equal((await fetch(`${gw.url}/empty`)).status, 200, `${fw} still serves`);
  }
});

test('HEAD is GET without a body, in every framework', async () => {
  for (const [fw, gw] of gateways) {
    const r = await raw(gw.url, 'HEAD /empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200, fw);
    assert.equal(r.body, '', fw);
  }
});

test('an absolute-form target, a fragment, and HTTP/1.0 without Host, are served by every framework', async () => {
  for (const [fw, gw] of gateways) {
    for (const request of [get('http://x/empty'), get('http://x:8080/empty?a=1'), get('/empty#f'), 'GET /empty HTTP/1.0\r\n\r\n']) {
      const r = await raw(gw.url, request);
      assert.equal(r.status, 200, `${fw}: ${JSON.stringify(request)}: ${r.body}`);
      assert.equal(r.body, '{}', fw);
    }
  }
});

/** Reads the body of an answer as bytes. */
async function bytes(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

test('/image reads only its own asset, whatever file a parameter names', async () => {
  const { url } = gateways.get('node')!;
  const sample = await bytes(`${url}/image?width=16`);
  assert.equal(sample.status, 200);
  assert.ok(sample.body.length > 0);
  const attempts = [
    '/image?width=16&file=/etc/passwd',
    '/image?width=16&path=../../../../etc/passwd',
    '/image?width=16&image=../../../../etc/passwd',
    '/image?width=16&name=..%2f..%2f..%2fetc%2fhostname&src=file:///etc/passwd',
    '/image?width=16&assetsDir=/etc&sample=passwd',
  ];
  for (const [fw, gw] of gateways) {
    for (const attempt of attempts) {
      const r = await bytes(gw.url + attempt);
      assert.equal(r.status, 200, `${fw} ${attempt}`);
      // The same bytes as the plain request: no parameter chose another input.
      assert.ok(r.body.equals(sample.body), `${fw} ${attempt}: another image came back`);
    }
  }
});

test('dot segments and encoded letters in the path route alike in every framework', async () => {
  const targets: Array<[string, number]> = [
    ['/%65mpty', 200],
    ['/image/../empty', 200],
    ['/image/%2e%2e/empty', 200],
    ['/./empty', 200],
    ['/empty/.', 404],
    ['/%45MPTY', 404],
  ];
  for (const [target, status] of targets) {
    const bodies = new Set<string>();
    for (const [fw, gw] of gateways) {
      const r = await raw(gw.url, get(target));
      assert.equal(r.status, status, `${fw}: ${target}: ${r.body}`);
      bodies.add(r.body);
    }
    assert.equal(bodies.size, 1, `${target}: one answer across frameworks, got ${[...bodies].join(' | ')}`);
  }
});

test('a valid request pipelined before a malformed one is answered first, then the 400', async () => {
  for (const [fw, gw] of gateways) {
    const text = await rawText(gw.url, 'GET /sleep?ms=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /empty HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n');
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 400], `${fw}: ${JSON.stringify(text.slice(0, 300))}`);
    assert.match(text, /\{"slept_ms":100\}HTTP\/1\.1 400/, fw);
  }
});

// Waits for the gateway's header timeout (--headers-timeout-ms, 10 s by default): slow by nature.
test('headers that never finish are answered 408 request_timeout', { timeout: 120_000 }, async () => {
  const text = await rawText(gateways.get('fastify')!.url, 'GET /empty HTTP/1.1\r\nHost: x\r\n', 60_000);
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code, 'request_timeout');
});

/** Sends raw bytes and returns everything the server said until it closed. */
function rawText(url: string, request: string, timeoutMs = 10_000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('no answer')));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}
