/**
 * Stalled uploads and slow headers over raw sockets, against each of the five
 * real gateways: the bytes of uploads in progress are bounded across the
 * gateway (503 uploads_full beyond), the request and header timeouts close
 * stalled senders, and the budget is free again afterwards.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { FRAMEWORKS } from './adapters/adapter.js';
import { startGatewayProcess, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';

const BODY = 1_000_000;
const started: RoleProcess[] = [];
let worker: RoleProcess & { address: string };
const open: Socket[] = [];

interface Raw {
  socket: Socket;
  received: string;
  closed: boolean;
}

function rawSocket(base: string, first: string, body?: Buffer): Raw {
  const { hostname, port } = new URL(base);
  const raw: Raw = { socket: connect(Number(port), hostname), received: '', closed: false };
  open.push(raw.socket);
  raw.socket.on('data', (d: Buffer) => (raw.received += d.toString('latin1')));
  raw.socket.on('error', () => {}); // a reset after the answer is fine
  raw.socket.on('close', () => (raw.closed = true));
  raw.socket.write(first);
  if (body) raw.socket.write(body);
  return raw;
}

before(async () => {
  worker = await startWorkerProcess();
  started.push(worker);
});
after(async () => {
  for (const s of open) s.destroy();
  for (const p of started.reverse()) await p.stop();
});

for (const framework of FRAMEWORKS) {
  test(`${framework}: uploads in progress are bounded, stalled senders are cut off, the budget comes back`, async () => {
    const gw = await startGatewayProcess(framework, worker.address, [
      '--max-body-bytes', String(BODY),
      '--max-uploads-bytes', String(3 * BODY),
      '--request-timeout-ms', '3000',
      '--headers-timeout-ms', '2000',
    ]);
    started.push(gw);
    // Four uploads stopped halfway, one of them chunked (it reserves the whole --max-body-bytes):
    // the budget holds three, so exactly one is refused at once.
    const half = Buffer.alloc(BODY / 2, 1);
    const head = (extra: string) => `POST /image?width=10 HTTP/1.1\r\nhost: x\r\n${extra}\r\n`;
    const stalled = [
      rawSocket(gw.url, head(`content-length: ${BODY}\r\n`), half),
      rawSocket(gw.url, head(`content-length: ${BODY}\r\n`), half),
      rawSocket(gw.url, head(`content-length: ${BODY}\r\n`), half),
      rawSocket(gw.url, head('transfer-encoding: chunked\r\n'), Buffer.concat([Buffer.from(`${(BODY / 2).toString(16)}\r\n`), half, Buffer.from('\r\n')])),
    ];
    const slowHeaders = rawSocket(gw.url, 'GET /empty HTTP/1.1\r\nhost: x\r\n');
    await waitFor(() => stalled.some((r) => r.received.length > 0), 15_000, 'an answer to one of the stalled uploads');
    const answered = stalled.filter((r) => r.received.length > 0);
    assert.equal(answered.length, 1, 'exactly one upload is refused');
    assert.match(answered[0]!.received, /^HTTP\/1\.1 503 /);
    assert.match(answered[0]!.received, /"code":"uploads_full"/);

    // The timeouts close the stalled ones and the slow headers (node checks once a second).
    await waitFor(() => stalled.every((r) => r.closed) && slowHeaders.closed, 30_000, 'the gateway to close stalled senders');

    // With them gone, the budget is free: a whole upload is served.
    const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
    const ok = await fetch(`${gw.url}/image?width=4`, { method: 'POST', body: image });
    assert.equal(ok.status, 200);
    await gw.stop();
  });
}
