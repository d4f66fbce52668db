/**
 * The endpoints every adapter serves, and how their parameters are read.
 * Parameters are strict: a plain decimal integer in range, given at most once
 * (absent means the default; present but empty is an error).
 */
export type EndpointName = 'empty' | 'sleep' | 'math' | 'image' | 'payload' | 'fault';

/** How an adapter exposes one query parameter: its framework's own parse. */
export type ParamReader = (name: string) => string | string[] | undefined;

export interface Endpoint {
  name: EndpointName;
  path: `/${EndpointName}`;
  methods: readonly ('GET' | 'POST')[];
  /** Turns the query into function arguments; throws ParameterError. */
  args(param: ParamReader): Record<string, unknown>;
  /** The name on the gateway's record, when the arguments make a different experiment (a payload's size and format). */
  recordName?(args: Record<string, unknown>): string;
}

export class ParameterError extends Error {
  override name = 'ParameterError';
}

function integer(param: ParamReader, name: string, fallback: number, min: number, max: number): number {
  const raw = param(name);
  if (raw === undefined) return fallback;
  const range = `an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '2^53-1' : max}`;
  if (Array.isArray(raw)) throw new ParameterError(`${name} is given more than once; it must be ${range}`);
  // Digits only: no sign, exponent, decimals or hex, and short enough to be exact.
  if (!/^\d{1,16}$/.test(raw)) throw new ParameterError(`${name} must be ${range}, got ${JSON.stringify(raw.slice(0, 40))}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ParameterError(`${name} must be ${range}, got ${raw}`);
  return value;
}

export const MAX_SLEEP_MS = 25_000;

const FAULT_KINDS = ['loop', 'alloc', 'throw', 'exit'];

/** The payload function's largest answer (functions/payload.ts): 8 MiB. */
export const MAX_PAYLOAD_BYTES = 8 * 1024 * 1024;
const PAYLOAD_FORMATS = ['json', 'raw'];

function payloadFormat(param: ParamReader): string {
  const format = param('format') ?? 'json';
  if (typeof format !== 'string' || !PAYLOAD_FORMATS.includes(format)) throw new ParameterError('format must be json or raw, given once');
  return format;
}

function faultKind(param: ParamReader): string {
  const kind = param('kind');
  if (typeof kind !== 'string' || !FAULT_KINDS.includes(kind)) {
    throw new ParameterError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  return kind;
}

export const ENDPOINTS: Record<EndpointName, Endpoint> = {
  // ?instance=1: answer the id of the instance that ran the call.
  empty: { name: 'empty', path: '/empty', methods: ['GET'], args: (p) => (integer(p, 'instance', 0, 0, 1) ? { instance: true } : {}) },
  sleep: {
    name: 'sleep',
    path: '/sleep',
    methods: ['GET'],
    // Below the worker's default time limit (30 s) and the gateway's (35 s), so every legal sleep can succeed.
    args: (p) => ({ ms: integer(p, 'ms', 1000, 0, MAX_SLEEP_MS) }),
  },
  math: {
    name: 'math',
    path: '/math',
    methods: ['GET'],
    args: (p) => ({ n: integer(p, 'n', 100_000, 1, Number.MAX_SAFE_INTEGER) }),
  },
  image: {
    name: 'image',
    path: '/image',
    methods: ['GET', 'POST'],
    args: (p) => ({ width: integer(p, 'width', 320, 1, 4096) }),
  },
  payload: {
    name: 'payload',
    path: '/payload',
    methods: ['GET'],
    args: (p) => ({ bytes: integer(p, 'bytes', 1024, 1, MAX_PAYLOAD_BYTES), format: payloadFormat(p) }),
    // Each size and format is a cell of its own in the analysis. Over the TCP
    // front the arguments are the client's own, unchecked: only a size and a
    // format the function accepts name a cell, anything else is plain "payload".
    recordName: (a) => {
      const bytes = a.bytes ?? 1024;
      const format = a.format ?? 'json';
      const valid = Number.isInteger(bytes) && (bytes as number) >= 1 && (bytes as number) <= MAX_PAYLOAD_BYTES && PAYLOAD_FORMATS.includes(format as string);
      return valid ? `payload?bytes=${bytes as number}&format=${format as string}` : 'payload';
    },
  },
  // Misbehaving functions; the worker runs them only with --allow-fault-functions.
  fault: { name: 'fault', path: '/fault', methods: ['GET'], args: (p) => ({ kind: faultKind(p) }) },
};

export const ENDPOINT_LIST: readonly Endpoint[] = Object.values(ENDPOINTS);

/**
 * By name, in a Map: a name sliced from a request's path is a new string each
 * time, and as a property key (Object.hasOwn, ENDPOINTS[name]) V8 looks it up
 * in its string table on every request.
 */
const BY_NAME = new Map<string, Endpoint>(ENDPOINT_LIST.map((e) => [e.name, e]));

export function isEndpointName(name: string): name is EndpointName {
  return BY_NAME.has(name);
}

/** The fixed endpoint of this name, if it is one: its `name` is the canonical string, cheap as a key from then on. */
export function endpointNamed(name: string): Endpoint | undefined {
  return BY_NAME.get(name);
}

/** The name a call's record carries: the function's, or what its endpoint makes of its arguments. */
export function recordNameOf(fn: string, args: Record<string, unknown> | null | undefined): string {
  const name = isEndpointName(fn) ? ENDPOINTS[fn].recordName : undefined;
  return name ? name(typeof args === 'object' && args !== null ? args : {}) : fn;
}

/** Methods of a function a worker announced beyond the fixed endpoints (core.invokeFunction). */
export const FUNCTION_METHODS: readonly ('GET' | 'POST')[] = ['GET', 'POST'];

/**
 * The arguments of such a function: every query parameter as a string, or a
 * list of strings when given more than once. Parsed here, not by each
 * framework, so that all five pass the same arguments.
 */
export function functionArgs(rawUrl: string): Record<string, unknown> {
  const q = rawUrl.indexOf('?');
  const args: Record<string, unknown> = {};
  if (q === -1) return args;
  for (const [key, value] of new URLSearchParams(rawUrl.slice(q + 1))) {
    const seen = args[key];
    if (seen === undefined) args[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else args[key] = [seen, value];
  }
  return args;
}
