import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { endpointNamed, FUNCTION_METHODS, type ParamReader } from '../../contract/endpoints.js';
import { compressBody, shouldCompress } from '../compression.js';
import type { Answer } from '../core.js';
import { writeAnswer } from '../reply.js';
import { traceOf } from '../request-log.js';
import type { CreateServer } from './adapter.js';

/** Plain node:http, the baseline: a switch on the path and URLSearchParams. */
export const createNodeServer: CreateServer = (core) => {
  const coding = core.compression === 'none' ? null : core.compression;
  const send = (req: IncomingMessage, res: ServerResponse, a: Answer): void => {
    if (coding === null || !shouldCompress(coding, req.headers['accept-encoding'], a.contentType, Buffer.byteLength(a.body), req.method ?? '')) {
      return writeAnswer(res, a);
    }
    compressBody(coding, typeof a.body === 'string' ? Buffer.from(a.body) : a.body).then(
      (body) => {
        res.setHeader('content-encoding', coding);
        res.setHeader('vary', 'Accept-Encoding');
        writeAnswer(res, { ...a, body });
      },
      (err: Error) => writeAnswer(res, core.fail(traceOf(req), 'internal_error', err.message)),
    );
  };
  return createServer((req, res) => {
    const trace = traceOf(req);
    const target = req.url ?? '/';
    // An absolute-form target (GET http://host/empty) names the same path, as the frameworks read it.
    const url = target.startsWith('/') ? target : pathOf(target);
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // A fixed endpoint (named from here on by its own string, not the one sliced from this path), or any other function a worker announced.
    const endpoint = endpointNamed(path.slice(1));
    const fixed = endpoint !== undefined;
    const name = fixed ? endpoint.name : path.slice(1);
    if (!(fixed ? path === endpoint.path : core.servesFunction(name))) return send(req, res, core.notFound(trace, req.method ?? '', target));
    // HEAD is GET without the body, as every framework treats it.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    if (!((fixed ? endpoint.methods : FUNCTION_METHODS) as readonly string[]).includes(method)) {
      return send(req, res, core.methodNotAllowed(trace, req.method ?? '', name));
    }
    const done = (a: Answer) => send(req, res, a);
    // Callbacks, not invoke()'s promise: the plainest node:http server needs none.
    const call = (body: Buffer | undefined) =>
      fixed ? core.run(endpoint.name, trace, q === -1 ? noParams : queryReader(url.slice(q + 1)), body, done) : core.runFunction(name, trace, url, body, done);
    if (req.method !== 'POST') return call(undefined);
    readBody(req, core.maxBodyBytes).then(
      (body) => (body ? call(body) : done(core.tooLarge(trace, url))),
      (err: Error) => done(core.fail(trace, 'internal_error', err.message)),
    );
  });
};

const noParams: ParamReader = () => undefined;

function queryReader(query: string): ParamReader {
  const params = new URLSearchParams(query);
  return (key) => {
    const all = params.getAll(key);
    return all.length > 1 ? all : all[0];
  };
}

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
