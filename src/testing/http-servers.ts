/**
 * Test fixtures: real HTTP servers on 127.0.0.1, port 0, in this process (so
 * their arrival stamps share the caller's clock). Not a test file itself.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';

export interface Arrival {
  id: string;
  at: bigint;
}

export interface TestServer {
  url: string;
  port: number;
  /** x-request-id and hrtime of every request that reached the handler, in arrival order. */
  arrivals: Arrival[];
  close(): Promise<void>;
}

export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse, index: number) => void = (_req, res) => res.end('hello'),
): Promise<TestServer> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    arrivals.push({ id: String(req.headers['x-request-id']), at: process.hrtime.bigint() });
    handler(req, res, arrivals.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TCP server that answers every request with the given raw bytes (to feed
 * the client malformed HTTP), or, given `answer`, lets it write the reply to
 * the request with that x-request-id. Once per request head (bodiless
 * requests): a busy machine may split one request over two reads.
 */
export async function startRawServer(reply: string, answer?: (socket: Socket, id: string) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + 4);
        if (answer === undefined) socket.write(reply);
        else answer(socket, /x-request-id: ([^\r]+)/.exec(head)?.[1] ?? '');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    arrivals: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that nobody listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ParsedRecord {
  role: string;
  host: string;
  id: string;
  method: string;
  path: string;
  connections: number;
  warmup: boolean;
  status: number;
  bytes: number;
  error: string | null;
  t0: string;
  t6: string;
  t0_intended?: string;
  label?: string;
}

/** The request records of a file; lines with a `type` (saturation samples, clock anchors) are left out. */
export function readRecords(file: string): ParsedRecord[] {
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ParsedRecord & { type?: string })
    .filter((r) => r.type === undefined);
}
