import type { Server } from 'node:http';
import type { GatewayCore } from '../core.js';

export const FRAMEWORKS = ['node', 'fastify', 'express', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/**
 * The one contract every framework adapter implements: build a node:http
 * server, not yet listening, whose routes are the framework's own and whose
 * handlers call the core. Each adapter file has this shape and nothing else.
 */
export type CreateServer = (core: GatewayCore) => Server | Promise<Server>;
