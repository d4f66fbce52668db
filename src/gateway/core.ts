import type { CallResult, RpcClient } from '../rpc/client.js';
import type { Compression } from './compression.js';
import { ENDPOINTS, FUNCTION_METHODS, functionArgs, isEndpointName, ParameterError, type EndpointName, type ParamReader } from '../contract/endpoints.js';
import { errorBody, isErrorCode, JSON_TYPE, type ErrorCode, ERRORS } from '../contract/errors.js';
import type { RequestTrace } from './request-log.js';
import { workerStampsOf } from '../trace/records.js';
import { serverTiming } from './server-timing.js';
import { decodeArgs } from '../rpc/codec.js';
import { parseCallHeader, type Nesting } from '../contract/composition.js';

/** What an adapter sends back, through its own framework's reply path. */
export interface Answer {
  status: number;
  contentType: string;
  body: string | Buffer;
  /** Echoed as the x-request-id response header. */
  requestId: string;
  /** The Server-Timing header, when the worker replied and it is on. */
  serverTiming?: string;
}

export interface GatewayCoreOptions {
  rpc: RpcClient;
  /** Largest POST /image body, in bytes. */
  maxBodyBytes: number;
  /** Answers that a worker replied to carry a Server-Timing header with their stages. */
  serverTiming?: boolean;
  /** Response compression the adapter applies, its framework's own way. Default none. */
  compression?: Compression;
}

/**
 * The framework-agnostic middle of the gateway: validates a request, calls the
 * worker, and shapes the answer. Adapters parse and route with their own
 * framework, then call `invoke`; they never reach past this interface.
 */
export class GatewayCore {
  constructor(private readonly options: GatewayCoreOptions) {}

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  get compression(): Compression {
    return this.options.compression ?? 'none';
  }

  invoke(name: EndpointName, trace: RequestTrace, param: ParamReader, body?: Uint8Array): Promise<Answer> {
    return new Promise((resolve) => this.run(name, trace, param, body, resolve));
  }

  /**
   * invoke() without its promise: `done` gets the answer, at once when the
   * request is refused before any call (a bad parameter). For an adapter that needs no promise (node's own): one promise and its
   * reaction fewer per request.
   */
  run(name: EndpointName, trace: RequestTrace, param: ParamReader, body: Uint8Array | undefined, done: (a: Answer) => void): void {
    trace.fn = name;
    let args: Record<string, unknown>;
    try {
      args = ENDPOINTS[name].args(param);
      const recordName = ENDPOINTS[name].recordName;
      if (recordName) trace.fn = recordName(args);
    } catch (err) {
      return done(err instanceof ParameterError ? this.fail(trace, 'bad_parameter', err.message) : this.fail(trace, 'internal_error', messageOf(err)));
    }
    if (body !== undefined) {
      if (body.length === 0) return done(this.fail(trace, 'bad_parameter', 'the request body must be an image'));
      args.image = body;
    }
    this.call(name, trace, args, done);
  }

  /** Whether `/name` is a function a connected worker announced, beyond the fixed endpoints. */
  servesFunction(name: string): boolean {
    return !isEndpointName(name) && this.options.rpc.serves(name);
  }

  /**
   * Calls a function a worker announced: the query parameters as string
   * arguments, a POST body as `body`. Validation is the function's own
   * (an InputError answers 400 bad_input).
   */
  invokeFunction(name: string, trace: RequestTrace, rawUrl: string, body?: Uint8Array): Promise<Answer> {
    return new Promise((resolve) => this.runFunction(name, trace, rawUrl, body, resolve));
  }

  /** invokeFunction() without its promise, as run() is invoke(). */
  runFunction(name: string, trace: RequestTrace, rawUrl: string, body: Uint8Array | undefined, done: (a: Answer) => void): void {
    trace.fn = name;
    let args = functionArgs(rawUrl);
    if (body !== undefined && trace.callHeader !== undefined) {
      // A nested call through the platform's API: its body is its arguments, msgpack-encoded.
      try {
        args = decodeArgs(body);
      } catch (err) {
        return done(this.fail(trace, 'bad_parameter', `a nested call's body must be its arguments as a msgpack map: ${messageOf(err)}`));
      }
    } else if (body !== undefined) args.body = body;
    this.call(name, trace, args, done);
  }

  // One promise per request, made by invoke(): below it the link calls back.
  private call(name: string, trace: RequestTrace, args: Record<string, unknown>, done: (a: Answer) => void): void {
    let nest: Nesting | null = null;
    if (trace.callHeader !== undefined) {
      try {
        nest = parseCallHeader(trace.callHeader);
        trace.parent = nest?.parent ?? null;
      } catch (err) {
        return queueMicrotask(() => done(this.fail(trace, 'bad_parameter', messageOf(err))));
      }
    }
    const settle = (result: CallResult) => {
      let answer: Answer;
      try {
        answer = this.answer(trace, result);
      } catch (err) {
        answer = this.fail(trace, 'internal_error', messageOf(err));
      }
      done(answer);
    };
    try {
      trace.call = this.options.rpc.send(trace.id, name, args, trace.traceId, settle, nest);
    } catch (err) {
      // Arguments msgpack cannot encode: this request fails, never the process.
      queueMicrotask(() => done(this.fail(trace, 'internal_error', messageOf(err))));
    }
  }

  private answer(trace: RequestTrace, result: CallResult): Answer {
    trace.t2 = result.t2;
    trace.workerAddress = result.worker;
    if (result.retry) trace.retry = result.retry;
    if (!result.ok) return this.fail(trace, result.code, result.message);
    const reply = result.reply;
    trace.t4 = result.t4;
    if (result.at) trace.rpcAt = result.at;
    trace.worker = workerStampsOf(reply);
    const timing = this.options.serverTiming === false ? undefined : serverTiming(trace.t1, result.t2, result.t4, reply);
    if (reply.err) {
      const code = isErrorCode(reply.err.code) ? reply.err.code : 'function_error';
      const failed = this.fail(trace, code, reply.err.message);
      failed.serverTiming = timing;
      return failed;
    }
    if (reply.body !== undefined) {
      // Forwarded as it came: the JSON text or the bytes the function's answer is, made where it ran.
      const b = reply.body;
      const bytes = b instanceof Buffer ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      return { status: 200, contentType: reply.ctype ?? 'application/octet-stream', body: bytes, requestId: trace.id, serverTiming: timing };
    }
    // Results as values (--results decode): decoded from msgpack, written as JSON here.
    if (reply.result instanceof Uint8Array) {
      const bytes = Buffer.from(reply.result.buffer, reply.result.byteOffset, reply.result.byteLength);
      return { status: 200, contentType: reply.ctype ?? 'application/octet-stream', body: bytes, requestId: trace.id, serverTiming: timing };
    }
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(reply.result ?? null), requestId: trace.id, serverTiming: timing };
  }

  /** An error answer, recorded on the trace. */
  fail(trace: RequestTrace, code: ErrorCode, message: string): Answer {
    trace.error = code;
    return { status: ERRORS[code], contentType: JSON_TYPE, body: errorBody(code, message), requestId: trace.id };
  }

  /** `rawUrl` is the request target as received (node's req.url), so that
   *  every adapter names the same path whatever its framework normalises. */
  notFound(trace: RequestTrace, method: string, rawUrl: string): Answer {
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    return this.fail(trace, 'not_found', `no route for ${method} ${path.slice(0, 200)}`);
  }

  /** For a fixed endpoint or a function of servesFunction(). */
  methodNotAllowed(trace: RequestTrace, method: string, name: string): Answer {
    trace.fn = name;
    const methods = isEndpointName(name) ? ENDPOINTS[name].methods : FUNCTION_METHODS;
    return this.fail(trace, 'method_not_allowed', `${method} is not allowed on /${name}; use ${methods.join(' or ')}`);
  }

  /** `rawUrl` as for notFound(): the function is the path's last segment. */
  tooLarge(trace: RequestTrace, rawUrl: string): Answer {
    const path = rawUrl.split('?', 1)[0]!;
    trace.fn = path.slice(path.lastIndexOf('/') + 1);
    return this.fail(trace, 'payload_too_large', `the request body exceeds ${this.options.maxBodyBytes} bytes`);
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
