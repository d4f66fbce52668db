import type { IncomingMessage, Server } from 'node:http';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { COMPRESSIBLE, COMPRESSION_THRESHOLD_BYTES, compressBody, shouldCompress } from '../compression.js';
import type { Answer, GatewayCore } from '../core.js';
import { ENDPOINT_LIST } from '../../contract/endpoints.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

type Env = { Bindings: HttpBindings };

/** hono on @hono/node-server, with hono's router, c.req.queries and bodyLimit. */
export const createHonoServer: CreateServer = async (core: GatewayCore) => {
  const app = new Hono<Env>();
  const trace = (c: Context<Env>) => traceOf(c.env.incoming as IncomingMessage);
  if (core.compression === 'gzip') {
    // Loaded only when on: a gateway without compression does not carry it at idle.
    const { compress } = await import('hono/compress');
    app.use(compress({ encoding: 'gzip', threshold: COMPRESSION_THRESHOLD_BYTES, contentTypeFilter: COMPRESSIBLE }));
  }
  // hono's compress middleware offers gzip and deflate only (CompressionStream has no brotli on Node 20): br is node's zlib.
  if (core.compression === 'br') app.use(brotli);
  const limit = bodyLimit({
    maxSize: core.maxBodyBytes,
    onError: (c) => send(c, core.tooLarge(trace(c as Context<Env>), (c as Context<Env>).env.incoming.url ?? '')),
  });

  for (const endpoint of ENDPOINT_LIST) {
    const handle = async (c: Context<Env>) => {
      const param = (k: string) => {
        const all = c.req.queries(k);
        return all && all.length === 1 ? all[0] : all;
      };
      const body = c.req.method === 'POST' ? new Uint8Array(await c.req.arrayBuffer()) : undefined;
      return send(c, await core.invoke(endpoint.name, trace(c), param, body));
    };
    if (endpoint.methods.includes('GET')) app.get(endpoint.path, handle);
    if (endpoint.methods.includes('POST')) app.post(endpoint.path, limit, handle);
    app.all(endpoint.path, (c) => send(c, core.methodNotAllowed(trace(c), c.req.method, endpoint.name)));
  }
  // Any other function a worker announced; a name none did is no route.
  const notServed = (c: Context<Env>) => (core.servesFunction(c.req.param('fn') ?? '') ? null : core.notFound(trace(c), c.req.method, c.env.incoming.url ?? ''));
  const handleFn = async (c: Context<Env>) => {
    const refused = notServed(c);
    if (refused) return send(c, refused);
    const body = c.req.method === 'POST' ? new Uint8Array(await c.req.arrayBuffer()) : undefined;
    return send(c, await core.invokeFunction(c.req.param('fn') ?? '', trace(c), c.env.incoming.url ?? '', body));
  };
  app.get('/:fn', handleFn);
  app.post('/:fn', limit, handleFn);
  app.all('/:fn', (c) => send(c, notServed(c) ?? core.methodNotAllowed(trace(c), c.req.method, c.req.param('fn') ?? '')));
  app.notFound((c) => send(c, core.notFound(trace(c), c.req.method, c.env.incoming.url ?? '')));
  app.onError((err, c) => send(c, core.fail(trace(c), 'internal_error', err.message)));
  // An HTTP/1.0 request may come without Host; hono needs one to build its URL.
  return createAdaptorServer({ fetch: app.fetch, hostname: 'localhost' }) as Server;
};

function send(c: Context, a: Answer): Response {
  // A view of the bytes, not a copy (new Uint8Array(buffer) copies).
  return c.body(typeof a.body === 'string' ? a.body : new Uint8Array(a.body.buffer as ArrayBuffer, a.body.byteOffset, a.body.byteLength), a.status as 200, {
    'content-type': a.contentType,
    // Read by the compress middleware's threshold, which compresses a response of unknown length.
    'content-length': String(Buffer.byteLength(a.body)),
    'x-request-id': a.requestId,
    ...(a.serverTiming === undefined ? {} : { 'server-timing': a.serverTiming }),
  });
}

const brotli = createMiddleware(async (c, next) => {
  await next();
  const type = c.res.headers.get('content-type') ?? '';
  const length = Number(c.res.headers.get('content-length'));
  if (!shouldCompress('br', c.req.header('accept-encoding'), type, length, c.req.method)) return;
  const body = await compressBody('br', new Uint8Array(await c.res.arrayBuffer()));
  c.res = new Response(body, c.res);
  c.res.headers.set('content-encoding', 'br');
  c.res.headers.set('content-length', String(body.length));
  c.res.headers.set('vary', 'Accept-Encoding');
});
