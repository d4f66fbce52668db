export { FRAMEWORKS, type Framework, type CreateServer } from './adapter.js';
import type { CreateServer, Framework } from './adapter.js';

/** Each framework is loaded only by the gateway that runs it: loading all five costs every command start-up time and memory. */
export const ADAPTERS: Record<Framework, () => Promise<CreateServer>> = {
  node: async () => (await import('./node.js')).createNodeServer,
  fastify: async () => (await import('./fastify.js')).createFastifyServer,
  express: async () => (await import('./express.js')).createExpressServer,
  koa: async () => (await import('./koa.js')).createKoaServer,
  hono: async () => (await import('./hono.js')).createHonoServer,
};
