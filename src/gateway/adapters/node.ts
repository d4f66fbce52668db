import { createServer, type IncomingMessage } from 'node:http';
import { ENDPOINTS, FUNCTION_METHODS, isEndpointName } from '../endpoints.js';
import { compressBody, shouldCompress } from '../compression.js';
import type { Answer } from '../core.js';
import { writeAnswer } from '../reply.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

/** Plain node:http, the baseline: a switch on the path and URLSearchParams. */
export const createNodeServer: CreateServer = (core) => {
  const coding = core.compression === 'none' ? null : core.compression;
  return createServer((req, res) => {
    const trace = traceOf(req);
    const send = (a: Answer): void => {
      if (coding === null || !shouldCompress(coding, req.headers['accept-encoding'], a.contentType, Buffer.byteLength(a.body), req.method ?? '')) {
        return writeAnswer(res, a);
      }
      compressBody(coding, typeof a.body === 'string' ? Buffer.from(a.body) : a.body).then(
        (body) => {
          res.setHeader('content-encoding', coding);
          res.setHeader('vary', 'Accept-Encoding');
          writeAnswer(res, { ...a, body });
        },
        (err: Error) => writeAnswer(res, core.fail(trace, 'internal_error', err.message)),
      );
    };
    const target = req.url ?? '/';
    // An absolute-form target (GET http://host/empty) names the same path, as the frameworks read it.
    const url = target.startsWith('/') ? target : pathOf(target);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const name = path.slice(1);
    // A fixed endpoint, or any other function a worker announced.
    const fixed = isEndpointName(name);
    if (!(fixed ? path === ENDPOINTS[name].path : core.servesFunction(name))) return send(core.notFound(trace, req.method ?? '', target));
    // HEAD is GET without the body, as every framework treats it.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    if (!((fixed ? ENDPOINTS[name].methods : FUNCTION_METHODS) as readonly string[]).includes(method)) {
      return send(core.methodNotAllowed(trace, req.method ?? '', name));
    }
    const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
    const param = (key: string) => {
      const all = params.getAll(key);
      return all.length > 1 ? all : all[0];
    };
    const call = (body?: Buffer) => (fixed ? core.invoke(name, trace, param, body) : core.invokeFunction(name, trace, url, body));
    const answer =
      req.method === 'POST'
        ? readBody(req, core.maxBodyBytes).then((body) => (body ? call(body) : core.tooLarge(trace, url)))
        : call();
    answer.then(
      (a) => send(a),
      (err: Error) => send(core.fail(trace, 'internal_error', err.message)),
    );
  });
};

function pathOf(target: string): string {
  try {
    const u = new URL(target);
    return u.pathname + u.search;
  } catch {
    return target; // '*' and other forms no route matches
  }
}

/** Resolves null when the body passes the limit (the rest is discarded). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      return resolve(null);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        return resolve(null);
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
