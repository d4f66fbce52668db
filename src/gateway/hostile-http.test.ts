/**
 * Hostile HTTP against all five frameworks: clear JSON errors, identical
 * across adapters, and the gateway stays up.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { FRAMEWORKS } from './adapters/adapter.js';

let worker: RoleProcess & { address: string };
const gateways = new Map<string, RoleProcess & { url: string }>();

before(async () => {
  worker = await startWorkerProcess();
  for (const fw of FRAMEWORKS) gateways.set(fw, await startGatewayProcess(fw, worker.address));
});
after(async () => {
  for (const g of gateways.values()) await g.stop();
  await worker?.stop();
});

/** Sends raw bytes and returns the status line and body of the answer. */
function raw(url: string, request: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(text.slice(9, 12));
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

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
];

test('hostile requests get the same clear JSON error from every framework', async () => {
  for (const [name, request, status, code] of cases) {
    const bodies = new Set<string>();
    for (const [fw, gw] of gateways) {
      const r = await raw(gw.url, request);
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
