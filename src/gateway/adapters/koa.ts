import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import type { Answer, GatewayCore } from '../core.js';
import { ENDPOINT_LIST } from '../endpoints.js';
import { traceOf } from '../trace.js';
import type { CreateServer } from './adapter.js';

/** koa with @koa/router, ctx.query, and raw-body (what koa's body parsers use). */
export const createKoaServer: CreateServer = (core: GatewayCore) => {
  const app = new Koa();
  // Paths match exactly, as in every adapter: /EMPTY and /empty/ are not /empty.
  const router = new Router({ strict: true, sensitive: true });

  for (const endpoint of ENDPOINT_LIST) {
    const handle = async (ctx: Koa.Context) => {
      const trace = traceOf(ctx.req);
      let body: Buffer | undefined;
      if (ctx.method === 'POST') {
        // Refused from the declared length alone, as in every adapter.
        if (Number(ctx.get('content-length')) > core.maxBodyBytes) return send(ctx, core.tooLarge(trace));
        try {
          body = await getRawBody(ctx.req, { limit: core.maxBodyBytes });
        } catch (err) {
          if ((err as { status?: number }).status === 413) return send(ctx, core.tooLarge(trace));
          throw err;
        }
      }
      const query = ctx.query;
      send(ctx, await core.invoke(endpoint.name, trace, (k) => query[k], body));
    };
    if (endpoint.methods.includes('GET')) router.get(endpoint.path, handle);
    if (endpoint.methods.includes('POST')) router.post(endpoint.path, handle);
  }
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      send(ctx, core.fail(traceOf(ctx.req), 'internal_error', (err as Error).message));
    }
  });
  app.use(router.routes());
  // Paths we serve but with another method: 405, as in every adapter.
  app.use(async (ctx) => {
    const endpoint = ENDPOINT_LIST.find((e) => e.path === ctx.path);
    send(ctx, endpoint ? core.methodNotAllowed(traceOf(ctx.req), ctx.method, endpoint.name) : core.notFound(traceOf(ctx.req), ctx.method, ctx.req.url ?? ''));
  });
  return createServer(app.callback());
};

function send(ctx: Koa.Context, a: Answer): void {
  ctx.status = a.status;
  ctx.set('x-request-id', a.requestId);
  ctx.type = a.contentType;
  ctx.body = a.body;
}
