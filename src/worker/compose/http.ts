/**
 * Nested calls back through a gateway over HTTP, as a function on a platform
 * calls another through the platform's API. A fixed endpoint (/empty,
 * /sleep, …) is a GET with the scalar arguments as its query (it reads
 * nothing else); any other function a POST whose body is its arguments,
 * msgpack-encoded, which the gateway decodes because the call header says
 * it is a nested call. The answer is the gateway's: JSON, bytes, or its
 * error body. The gateway and the callee's worker write their records.
 */
import { Agent, request } from 'node:http';
import { Encoder } from '@msgpack/msgpack';
import { CALL_HEADER, formatCallHeader, type Nesting } from '../../contract/composition.js';
import { isEndpointName } from '../../contract/endpoints.js';
import { traceparentFor } from '../../trace/trace-context.js';
import type { Answer, Transport } from './composer.js';

const encoder = new Encoder({ useBigInt64: true, ignoreUndefined: true });

export class HttpTransport implements Transport {
  readonly mode = 'http' as const;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly base: URL;

  constructor(gateway: string) {
    this.base = new URL(gateway);
  }

  call(id: string, fn: string, args: Record<string, unknown>, traceId: string, nesting: Nesting): Promise<Answer> {
    const fixed = isEndpointName(fn);
    let path = `/${fn}`;
    let body: Uint8Array | null = null;
    if (fixed) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(args)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') query.append(k, String(v));
      const q = query.toString();
      if (q) path += `?${q}`;
    } else {
      body = encoder.encode(args);
    }
    const headers: Record<string, string | number> = {
      'x-request-id': id,
      traceparent: traceparentFor(traceId, nesting.parent),
      [CALL_HEADER]: formatCallHeader(nesting),
    };
    if (body) {
      headers['content-type'] = 'application/msgpack';
      headers['content-length'] = body.byteLength;
    }
    return new Promise((resolve) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port || 80, path, method: body ? 'POST' : 'GET', headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => resolve(unavailable(this.base, err)));
          res.on('end', () => resolve(answerOf(res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), Buffer.concat(chunks))));
        },
      );
      req.on('error', (err) => resolve(unavailable(this.base, err)));
      req.end(body ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function unavailable(base: URL, err: Error): Answer {
  return { ok: false, code: 'worker_unavailable', message: `the gateway ${base.origin} could not be reached: ${err.message}` };
}

function answerOf(status: number, type: string, body: Buffer): Answer {
  const json = type.startsWith('application/json');
  if (status === 200) {
    if (!json) return { ok: true, value: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
    try {
      return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
    } catch (err) {
      return { ok: false, code: 'function_error', message: `the gateway's answer is not JSON: ${(err as Error).message}` };
    }
  }
  try {
    const e = (JSON.parse(body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof e?.code === 'string') return { ok: false, code: e.code, message: String(e.message ?? '') };
  } catch {
    // Not the gateway's error body: named by its status below.
  }
  return { ok: false, code: 'function_error', message: `the gateway answered ${status}` };
}
