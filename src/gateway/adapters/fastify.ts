import { METHODS } from 'node:http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { BROTLI_OPTIONS, COMPRESSIBLE, COMPRESSION_THRESHOLD_BYTES, GZIP_OPTIONS } from '../compression.js';
import type { Answer, GatewayCore } from '../core.js';
import { ENDPOINT_LIST, FUNCTION_METHODS } from '../../contract/endpoints.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

/** fastify with its own router, querystring parser, body limit and reply. */
export const createFastifyServer: CreateServer = async (core: GatewayCore) => {
  const app = Fastify({ logger: false, bodyLimit: core.maxBodyBytes });
  // Bodies are images: keep them as raw bytes, whatever the content type says.
  // fastify's own JSON and text parsers go, or a body labelled application/json
  // would be parsed (a 500 when malformed) instead of refused as an image.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // fastify routes only the methods it knows, and wants a content type on a
  // QUERY: every method node parses becomes a bodyless one, so that any
  // unlisted method on a known path is a 405, as in the other frameworks.
  for (const m of METHODS) {
    if (m === 'QUERY' || !app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: false, overrideExisting: true });
  }
  /** The methods that answer 405 on a route served with `methods` (HEAD goes with GET). */
  const otherMethods = (methods: readonly string[]) =>
    app.supportedMethods.filter((m) => !methods.includes(m) && !(m === 'HEAD' && methods.includes('GET')));
  if (core.compression !== 'none') {
    // Loaded only when on: a gateway without compression does not carry it at idle.
    const { default: fastifyCompress } = await import('@fastify/compress');
    await app.register(fastifyCompress, {
      encodings: [core.compression],
      threshold: COMPRESSION_THRESHOLD_BYTES,
      zlibOptions: GZIP_OPTIONS,
      brotliOptions: BROTLI_OPTIONS,
      customTypes: COMPRESSIBLE,
    });
  }

  for (const endpoint of ENDPOINT_LIST) {
    app.route({
      method: endpoint.methods.slice(),
      url: endpoint.path,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const query = request.query as Record<string, string | string[] | undefined>;
        const body = request.method === 'POST' ? ((request.body as Buffer | undefined) ?? Buffer.alloc(0)) : undefined;
        return send(reply, await core.invoke(endpoint.name, traceOf(request.raw), (k) => query[k], body));
      },
    });
    app.route({
      method: otherMethods(endpoint.methods),
      url: endpoint.path,
      handler: async (request, reply) => send(reply, core.methodNotAllowed(traceOf(request.raw), request.method, endpoint.name)),
    });
  }
  // Any other function a worker announced; a name none did is no route.
  const notServed = (request: FastifyRequest) => {
    const { fn } = request.params as { fn: string };
    return core.servesFunction(fn) ? null : core.notFound(traceOf(request.raw), request.method, request.raw.url ?? '');
  };
  app.route({
    method: FUNCTION_METHODS.slice(),
    url: '/:fn',
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const refused = notServed(request);
      if (refused) return send(reply, refused);
      const body = request.method === 'POST' ? ((request.body as Buffer | undefined) ?? Buffer.alloc(0)) : undefined;
      return send(reply, await core.invokeFunction((request.params as { fn: string }).fn, traceOf(request.raw), request.raw.url ?? '', body));
    },
  });
  app.route({
    method: otherMethods(FUNCTION_METHODS),
    url: '/:fn',
    handler: async (request, reply) =>
      send(reply, notServed(request) ?? core.methodNotAllowed(traceOf(request.raw), request.method, (request.params as { fn: string }).fn)),
  });
  app.setNotFoundHandler(async (request, reply) => send(reply, core.notFound(traceOf(request.raw), request.method, request.raw.url ?? '')));
  app.setErrorHandler(async (error: { statusCode?: number; message: string }, request, reply) => {
    const trace = traceOf(request.raw);
    if (error.statusCode === 413) return send(reply, core.tooLarge(trace, request.raw.url ?? ''));
    return send(reply, core.fail(trace, 'internal_error', error.message));
  });
  await app.ready();
  return app.server;
};

function send(reply: FastifyReply, a: Answer): FastifyReply {
  reply.code(a.status).header('content-type', a.contentType).header('x-request-id', a.requestId);
  // Last, so that answers with and without it share their headers' first keys.
  if (a.serverTiming !== undefined) reply.header('server-timing', a.serverTiming);
  return reply.send(a.body);
}
