import { createServer } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import express, { type NextFunction, type Request, type Response } from 'express';
import { BROTLI_OPTIONS, COMPRESSIBLE, COMPRESSION_THRESHOLD_BYTES, GZIP_OPTIONS } from '../compression.js';
import type { Answer, GatewayCore } from '../core.js';
import { ENDPOINT_LIST } from '../../contract/endpoints.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

/** express with its router, req.query and express.raw for bodies. */
export const createExpressServer: CreateServer = async (core: GatewayCore) => {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Paths match exactly, as in every adapter: /EMPTY and /empty/ are not /empty.
  app.enable('case sensitive routing');
  app.enable('strict routing');
  // express's "simple" parser is node's querystring, which silently drops
  // every key after the 1000th: the same parser without that limit (the
  // request line itself is bounded by the header size limit).
  app.set('query parser', (text: string) => parseQuery(text, '&', '=', { maxKeys: 0 }));
  if (core.compression !== 'none') {
    // Loaded only when on: a gateway without compression does not carry it at idle.
    const { default: compression } = await import('compression');
    app.use(
      compression({
        threshold: COMPRESSION_THRESHOLD_BYTES,
        ...GZIP_OPTIONS,
        brotli: BROTLI_OPTIONS,
        filter: (_req, res) => COMPRESSIBLE.test(String(res.getHeader('content-type') ?? '')),
      }),
    );
  }
  const raw = express.raw({ type: () => true, limit: core.maxBodyBytes });
  // body-parser answers a too large body only once it has read all of it;
  // one declared too large is refused at once, as in every adapter.
  const refuseDeclaredTooLarge = (req: Request, res: Response, next: NextFunction) => {
    if (Number(req.headers['content-length']) > core.maxBodyBytes) return send(res, core.tooLarge(traceOf(req), req.originalUrl));
    next();
  };

  for (const endpoint of ENDPOINT_LIST) {
    const route = app.route(endpoint.path);
    const handle = (req: Request, res: Response, next: NextFunction) => {
      const query = req.query as Record<string, string | string[] | undefined>;
      const body = req.method === 'POST' ? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)) : undefined;
      core.invoke(endpoint.name, traceOf(req), (k) => query[k], body).then((a) => send(res, a), next);
    };
    for (const method of endpoint.methods) {
      if (method === 'GET') route.get(handle);
      else route.post(refuseDeclaredTooLarge, raw, handle);
    }
    route.all((req, res) => send(res, core.methodNotAllowed(traceOf(req), req.method, endpoint.name)));
  }
  // Any other function a worker announced; a name none did falls through to the 404.
  const fn = app.route('/:fn');
  const served = (req: Request, _res: Response, next: NextFunction) => next(core.servesFunction(req.params.fn as string) ? undefined : 'route');
  const handleFn = (req: Request, res: Response, next: NextFunction) => {
    const body = req.method === 'POST' ? (Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)) : undefined;
    core.invokeFunction(req.params.fn as string, traceOf(req), req.originalUrl, body).then((a) => send(res, a), next);
  };
  fn.get(served, handleFn);
  fn.post(served, refuseDeclaredTooLarge, raw, handleFn);
  fn.all(served, (req, res) => send(res, core.methodNotAllowed(traceOf(req), req.method, req.params.fn as string)));
  app.use((req, res) => send(res, core.notFound(traceOf(req), req.method, req.originalUrl)));
  app.use((err: { status?: number; message: string }, req: Request, res: Response, _next: NextFunction) => {
    const trace = traceOf(req);
    send(res, err.status === 413 ? core.tooLarge(trace, req.originalUrl) : core.fail(trace, 'internal_error', err.message));
  });
  return createServer(app);
};

function send(res: Response, a: Answer): void {
  if (a.serverTiming !== undefined) res.set('server-timing', a.serverTiming);
  res.status(a.status).set('content-type', a.contentType).set('x-request-id', a.requestId).send(a.body);
}
