/**
 * Bare hello-world servers, one per framework, each written the plainest way
 * that framework allows: the baseline for the gateway's CPU per request.
 * And `proxy ECHO_PORT [FRAMEWORK]`: the same hello world of FRAMEWORK (default
 * node) forwarding each request as an 8-byte frame over one TCP connection to
 * a byte echo (echo-server.js raw) and answering when it comes back, writes
 * shared per poll phase as the gateway's are: the least a gateway of that
 * framework with an RPC hop can cost, with nothing measured or checked.
 * Usage: node hello-servers.js FRAMEWORK | proxy ECHO_PORT [FRAMEWORK] (prints {"port":N} when listening).
 * Each loads its own framework only, so its RSS is that framework's too.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';

const BODY = '{}';

/** Waits for one round trip over the proxy's TCP hop, then calls back. */
type Forward = (done: () => void) => void;

/** A bare hello world of `framework`; with `forward`, each request waits for a round trip over TCP first: a bare proxy of that framework. */
async function hello(framework: string, forward: Forward | null): Promise<Server> {
  // The awaiting frameworks wait as the gateway's adapters do: on a promise.
  const hop = forward ? () => new Promise<void>((resolve) => forward(resolve)) : null;
  switch (framework) {
    case 'node': {
      const answer = (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
        res.end(BODY);
      };
      return createServer(forward ? (_req, res) => forward(() => answer(res)) : (_req, res) => answer(res));
    }
    case 'fastify': {
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false });
      app.get('/empty', async (_req, reply) => {
        if (hop) await hop();
        return reply.header('content-type', 'application/json; charset=utf-8').send(BODY);
      });
      await app.ready();
      return app.server;
    }
    case 'express': {
      const { default: express } = await import('express');
      const app = express();
      app.disable('etag');
      app.disable('x-powered-by');
      app.get('/empty', (_req, res) => {
        const answer = () => res.set('content-type', 'application/json; charset=utf-8').send(BODY);
        if (forward) forward(answer);
        else answer();
      });
      return createServer(app);
    }
    case 'koa': {
      const { default: Koa } = await import('koa');
      const app = new Koa();
      app.use(async (ctx) => {
        if (hop) await hop();
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = BODY;
      });
      return createServer(app.callback());
    }
    case 'hono': {
      const [{ Hono }, { createAdaptorServer }] = await Promise.all([import('hono'), import('@hono/node-server')]);
      const app = new Hono();
      app.get('/empty', async (c) => {
        if (hop) await hop();
        return c.body(BODY, 200, { 'content-type': 'application/json; charset=utf-8' });
      });
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

/** One TCP connection to a byte echo: each forward is an 8-byte frame, its callback runs when the frame comes back. */
async function link(echoPort: number): Promise<Forward> {
  const socket = connect({ port: echoPort, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const waiting = new Map<number, () => void>();
  let id = 0;
  let frames: Buffer[] = [];
  const flush = () => {
    socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    frames = [];
  };
  let rest: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const data = rest ? Buffer.concat([rest, chunk]) : chunk;
    let at = 0;
    for (; at + 8 <= data.length; at += 8) {
      const cid = data.readUInt32BE(at + 4);
      const done = waiting.get(cid)!;
      waiting.delete(cid);
      done();
    }
    rest = at < data.length ? data.subarray(at) : null;
  });
  return (done) => {
    const frame = Buffer.allocUnsafe(8);
    frame.writeUInt32BE(4, 0);
    frame.writeUInt32BE(++id >>> 0, 4);
    waiting.set(id >>> 0, done);
    frames.push(frame);
    if (frames.length === 1) (waiting.size > 1 ? setImmediate : process.nextTick)(flush);
  };
}

const [kind = 'node', echoPort, proxied = 'node'] = process.argv.slice(2);
const server = kind === 'proxy' ? await hello(proxied, await link(Number(echoPort))) : await hello(kind, null);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
