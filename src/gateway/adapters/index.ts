export { FRAMEWORKS, type Framework, type CreateServer } from './adapter.js';
import type { CreateServer, Framework } from './adapter.js';
import { createExpressServer } from './express.js';
import { createFastifyServer } from './fastify.js';
import { createHonoServer } from './hono.js';
import { createKoaServer } from './koa.js';
import { createNodeServer } from './node.js';

export const ADAPTERS: Record<Framework, CreateServer> = {
  node: createNodeServer,
  fastify: createFastifyServer,
  express: createExpressServer,
  koa: createKoaServer,
  hono: createHonoServer,
};
