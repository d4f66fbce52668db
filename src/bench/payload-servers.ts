/**
 * The floors of the payload bench, each answering `GET /payload?bytes=N&format=raw|json`
 * with the same bytes faasbench answers, and nothing else:
 * - `bare`: node:http answering from memory (raw: the function's cached
 *   bytes; json: JSON.stringify of the function's cached value, per request,
 *   as any server that answers a value does);
 * - `backend`: a TCP server that answers each 12-byte request frame
 *   (length, id, bytes, format) with a frame of the same answer;
 * - `proxy BACKEND_PORT`: node:http that forwards each request over one TCP
 *   connection to the back end and writes the answer it gets back: the same
 *   TCP hop as the gateway's, with nothing measured, checked or decoded.
 * Usage: node payload-servers.js bare|backend|proxy [BACKEND_PORT] (prints {"port":N} when listening).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server } from 'node:net';
import payload from '../../functions/payload.js';
import type { FunctionContext } from '../contract/function.js';

const context = {} as FunctionContext;
const RAW = 1;
const JSON_FORMAT = 2;

/** The answer's bytes: what the worker's function returns, turned into what HTTP carries. */
function answer(bytes: number, format: number): Buffer | string {
  const value = payload.run({ bytes, format: format === RAW ? 'raw' : 'json' }, context);
  return format === RAW ? (value as Buffer) : JSON.stringify(value);
}

function parse(url: string): { bytes: number; format: number } {
  const q = new URLSearchParams(url.slice(url.indexOf('?') + 1));
  return { bytes: Number(q.get('bytes') ?? 1024), format: q.get('format') === 'raw' ? RAW : JSON_FORMAT };
}

function write(res: ServerResponse, format: number, body: Buffer | string): void {
  const type = format === RAW ? 'application/octet-stream' : 'application/json; charset=utf-8';
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function bare(): Server {
  return createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const { bytes, format } = parse(req.url ?? '/');
    write(res, format, answer(bytes, format));
  });
}

function backend(): Server {
  return createTcpServer({ noDelay: true }, (socket) => {
    let rest: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      const data = rest ? Buffer.concat([rest, chunk]) : chunk;
      let at = 0;
      for (; at + 12 <= data.length; at += 12) {
        const id = data.readUInt32BE(at + 4);
        const bytes = data.readUInt32BE(at + 8) >>> 2;
        const body = answer(bytes, data[at + 11]! & 3);
        const length = Buffer.byteLength(body);
        const head = Buffer.allocUnsafe(8);
        head.writeUInt32BE(length + 4, 0);
        head.writeUInt32BE(id, 4);
        socket.write(head);
        socket.write(body);
      }
      rest = at < data.length ? data.subarray(at) : null;
    });
    socket.on('error', () => socket.destroy());
  });
}

async function proxy(backendPort: number): Promise<Server> {
  const link = connect({ port: backendPort, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => link.once('connect', resolve).once('error', reject));
  const waiting = new Map<number, { res: ServerResponse; format: number }>();
  let id = 0;
  // Frame reassembly, the plainest way: chunks kept until a frame is whole, then joined once.
  let chunks: Buffer[] = [];
  let buffered = 0;
  link.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    buffered += chunk.length;
    for (;;) {
      if (buffered < 4) return;
      if (chunks[0]!.length < 4) chunks = [Buffer.concat(chunks, buffered)];
      const length = chunks[0]!.readUInt32BE(0);
      if (buffered < 4 + length) return;
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
      const frameId = data.readUInt32BE(4);
      const w = waiting.get(frameId)!;
      waiting.delete(frameId);
      write(w.res, w.format, data.subarray(8, 4 + length));
      const rest = data.subarray(4 + length);
      chunks = rest.length > 0 ? [rest] : [];
      buffered = rest.length;
    }
  });
  return createHttpServer((req, res) => {
    const { bytes, format } = parse(req.url ?? '/');
    const frame = Buffer.allocUnsafe(12);
    id = (id + 1) >>> 0;
    frame.writeUInt32BE(8, 0);
    frame.writeUInt32BE(id, 4);
    frame.writeUInt32BE(((bytes << 2) | format) >>> 0, 8);
    waiting.set(id, { res, format });
    link.write(frame);
  });
}

const role = process.argv[2];
const server = role === 'bare' ? bare() : role === 'backend' ? backend() : role === 'proxy' ? await proxy(Number(process.argv[3])) : null;
if (!server) throw new Error(`unknown role ${role}`);
if ('keepAliveTimeout' in server) (server as { keepAliveTimeout: number }).keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
