/**
 * Bare hello-world servers, one per framework, each written the plainest way
 * that framework allows: the baseline for the gateway's CPU per request.
 * Usage: node hello-servers.js FRAMEWORK (prints {"port":N} when listening).
 */
import { createServer, type Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';

const BODY = '{}';

async function hello(framework: string): Promise<Server> {
  switch (framework) {
    case 'node':
      return createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length });
        res.end(BODY);
      });
    case 'fastify': {
      const app = Fastify({ logger: false });
      app.get('/empty', async (_req, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(BODY));
      await app.ready();
      return app.server;
    }
    case 'express': {
      const app = express();
      app.disable('etag');
      app.disable('x-powered-by');
      app.get('/empty', (_req, res) => {
        res.set('content-type', 'application/json; charset=utf-8').send(BODY);
      });
      return createServer(app);
    }
    case 'koa': {
      const app = new Koa();
      app.use(async (ctx) => {
        ctx.type = 'application/json; charset=utf-8';
        ctx.body = BODY;
      });
      return createServer(app.callback());
    }
    case 'hono': {
      const app = new Hono();
      app.get('/empty', (c) => c.body(BODY, 200, { 'content-type': 'application/json; charset=utf-8' }));
      return createAdaptorServer({ fetch: app.fetch }) as Server;
    }
    default:
      throw new Error(`unknown framework ${framework}`);
  }
}

const server = await hello(process.argv[2] ?? 'node');
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
