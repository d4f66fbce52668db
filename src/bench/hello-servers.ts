/**
 * Bare hello-world servers, one per framework, each written the plainest way
 * that framework allows: the baseline for the gateway's CPU per request.
 * And `proxy ECHO_PORT`: node:http forwarding each request as an 8-byte frame
 * over one TCP connection to a byte echo (echo-server.js raw) and answering
 * when it comes back, writes shared per poll phase as the gateway's are: the
 * least a gateway with an RPC hop can cost, with nothing measured or checked.
 * Usage: node hello-servers.js FRAMEWORK|proxy [ECHO_PORT] (prints {"port":N} when listening).
 * Each loads its own framework only, so its RSS is that framework's too.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';

const BODY = '{}';

async function hello(framework: string): Promise<Server> {
  switch (framework) {
    case 'node':
      return createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
        res.end(BODY);
      });
    case 'fastify': {
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false });
      app.get('/empty', async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(BODY));
      await app.ready();
      return app.server;
    }
    case 'express': {
      const { default: express } = await import('express');
      const app = express();
      app.disable('etag');
      app.disable('x-powered-by');
      app.get('/empty', (_req, res) => {
        res.set('content-type', 'application/json; charset=utf-8').send(BODY);
      });
      return createServer(app);
    }
    case 'koa': {
      const { default: Koa } = await import('koa');
      const app = new Koa();
      app.use(async (ctx) => {
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = BODY;
      });
      return createServer(app.callback());
    }
    case 'hono': {
      const [{ Hono }, { createAdaptorServer }] = await Promise.all([import('hono'), import('@hono/node-server')]);
      const app = new Hono();
      app.get('/empty', (c) => c.body(BODY, 200, { 'content-type': 'application/json; charset=utf-8' }));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
    case 'proxy':
      return proxy(Number(process.argv[3]));
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

async function proxy(echoPort: number): Promise<Server> {
  const link = connect({ port: echoPort, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => link.once('connect', resolve).once('error', reject));
  const waiting = new Map<number, ServerResponse>();
  let id = 0;
  let frames: Buffer[] = [];
  const flush = () => {
    link.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    frames = [];
  };
  let rest: Buffer | null = null;
  link.on('data', (chunk: Buffer) => {
    const data = rest ? Buffer.concat([rest, chunk]) : chunk;
    let at = 0;
    for (; at + 8 <= data.length; at += 8) {
      const res = waiting.get(data.readUInt32BE(at + 4))!;
      waiting.delete(data.readUInt32BE(at + 4));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
      res.end(BODY);
    }
    rest = at < data.length ? data.subarray(at) : null;
  });
  return createServer((_req, res) => {
    const frame = Buffer.allocUnsafe(8);
    frame.writeUInt32BE(4, 0);
    frame.writeUInt32BE(++id >>> 0, 4);
    waiting.set(id >>> 0, res);
    frames.push(frame);
    if (frames.length === 1) (waiting.size > 1 ? setImmediate : process.nextTick)(flush);
  });
}

const server = await hello(process.argv[2] ?? 'node');
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
