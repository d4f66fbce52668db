import { createServer } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import { BROTLI_OPTIONS, COMPRESSIBLE, COMPRESSION_THRESHOLD_BYTES, GZIP_OPTIONS } from '../compression.js';
import type { Answer, GatewayCore } from '../core.js';
import { ENDPOINT_LIST, isEndpointName } from '../../contract/endpoints.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

/** Thrown by the router's allowedMethods for a known path with another method. */
class MethodNotAllowed extends Error {}

/** koa with @koa/router (its allowedMethods for 405), ctx.query, and raw-body (what koa's body parsers use). */
export const createKoaServer: CreateServer = async (core: GatewayCore) => {
  const app = new Koa();
  // Paths match exactly, as in every adapter: /EMPTY and /empty/ are not /empty.
  // OPTIONS is left out of the router's methods so that it is a 405, as in every adapter.
  const router = new Router({ strict: true, sensitive: true, methods: ['HEAD', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE'] });
  const readBody = async (ctx: Koa.Context): Promise<Buffer | Answer> => {
    // Refused from the declared length alone, as in every adapter.
    if (Number(ctx.get('content-length')) > core.maxBodyBytes) return core.tooLarge(traceOf(ctx.req), ctx.req.url ?? '');
    try {
      return await getRawBody(ctx.req, { limit: core.maxBodyBytes });
    } catch (err) {
      if ((err as { status?: number }).status === 413) return core.tooLarge(traceOf(ctx.req), ctx.req.url ?? '');
      throw err;
    }
  };

  for (const endpoint of ENDPOINT_LIST) {
    const handle = async (ctx: Koa.Context) => {
      const body = ctx.method === 'POST' ? await readBody(ctx) : undefined;
      if (body !== undefined && !Buffer.isBuffer(body)) return send(ctx, body);
      const query = ctx.query;
      send(ctx, await core.invoke(endpoint.name, traceOf(ctx.req), (k) => query[k], body));
    };
    if (endpoint.methods.includes('GET')) router.get(endpoint.path, handle);
    if (endpoint.methods.includes('POST')) router.post(endpoint.path, handle);
  }
  // Any other function a worker announced; a name none did is no route.
  const handleFn = async (ctx: Koa.Context) => {
    const fn = ctx.params.fn as string;
    // A fixed endpoint's path reaches here only with a method it does not take.
    if (isEndpointName(fn)) throw new MethodNotAllowed();
    if (!core.servesFunction(fn)) return send(ctx, core.notFound(traceOf(ctx.req), ctx.method, ctx.req.url ?? ''));
    const body = ctx.method === 'POST' ? await readBody(ctx) : undefined;
    if (body !== undefined && !Buffer.isBuffer(body)) return send(ctx, body);
    send(ctx, await core.invokeFunction(fn, traceOf(ctx.req), ctx.req.url ?? '', body));
  };
  router.get('/:fn', handleFn);
  router.post('/:fn', handleFn);

  if (core.compression !== 'none') {
    // Loaded only when on: a gateway without compression does not carry it at idle.
    const { default: compress } = await import('koa-compress');
    app.use(
      compress({
        threshold: COMPRESSION_THRESHOLD_BYTES,
        filter: (type) => COMPRESSIBLE.test(type),
        gzip: core.compression === 'gzip' ? GZIP_OPTIONS : false,
        br: core.compression === 'br' ? BROTLI_OPTIONS : false,
        deflate: false,
      }),
    );
  }
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const trace = traceOf(ctx.req);
      if (!(err instanceof MethodNotAllowed)) return send(ctx, core.fail(trace, 'internal_error', (err as Error).message));
      // The router matched the path: a fixed endpoint, or /:fn, which is a route only for a served function.
      const name = ctx.path.slice(1);
      const known = isEndpointName(name) || core.servesFunction(name);
      return send(ctx, known ? core.methodNotAllowed(trace, ctx.method, name) : core.notFound(trace, ctx.method, ctx.req.url ?? ''));
    }
    if (ctx.body === undefined) send(ctx, core.notFound(traceOf(ctx.req), ctx.method, ctx.req.url ?? ''));
  });
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true, methodNotAllowed: () => new MethodNotAllowed(), notImplemented: () => new MethodNotAllowed() }));
  return createServer(app.callback());
};

function send(ctx: Koa.Context, a: Answer): void {
  ctx.status = a.status;
  ctx.set('x-request-id', a.requestId);
  if (a.serverTiming !== undefined) ctx.set('server-timing', a.serverTiming);
  ctx.type = a.contentType;
  ctx.body = a.body;
}
