/**
 * The caller's options, their defaults, and their validation. The CLI and
 * runCaller() share these, so `faasbench caller` and the API behave alike.
 */
import { randomBytes } from 'node:crypto';
import { ENDPOINTS, functionArgs, isEndpointName, ParameterError } from '../contract/endpoints.js';
import { ERRORS, isErrorCode } from '../contract/errors.js';
import type { TcpCall } from './tcp-connection.js';
import { parseThreshold, type Threshold } from './thresholds.js';
import { ArrivalError, parseArrival, scheduleOf, type Arrival, type AzureSpread, type Schedule } from './arrivals.js';

export interface CallerProgress {
  phase: 'warmup' | 'measure' | 'drain';
  /** Since the start of the run (warm-up included). */
  elapsedMs: number;
  /** Planned length of warm-up plus measurement; null in --requests mode. */
  plannedMs: number | null;
  /** Requests finished so far, warm-up included; failures (socket errors and non-2xx answers) included. */
  completed: number;
  errors: number;
  inFlight: number;
  /** Since the previous report (the first: since the start), warm-up included. */
  interval: {
    seconds: number;
    completed: number;
    /** Socket errors and non-2xx answers. */
    errors: number;
    /** Of the answers in the interval (microseconds, from t0 or the due time); null when none came. */
    p50Us: number | null;
    p99Us: number | null;
  };
}

export interface CallerOptions {
  /**
   * http:// URL; path and query are sent as given. Or tcp://HOST:PORT/FUNCTION?ARGS:
   * the RPC protocol, to the TCP front or a worker. Several (servers of the
   * same path, one protocol): connection k goes to url k mod n, so the
   * connections are spread round-robin over them.
   */
  url: string | readonly string[];
  /**
   * Wall-clock time (ms since the epoch) to start at: the connections are
   * opened, then the caller waits for it on its own clock. Several callers
   * given one time start together as far as their clocks agree.
   */
  startAt?: number;
  /** tcp:// only: the secret a worker or front requires in the hello. */
  secret?: string;
  /** Closed loop: concurrent requests. Open loop: the socket pool size. Default 150. */
  connections?: number;
  /** Length of the measured window (after warm-up). Default 10 s unless `requests` is given. */
  durationMs?: number;
  /** Instead of a duration: this many measured requests (after warm-up). */
  requests?: number;
  /** Open loop: requests due at this many per second (evenly, unless `arrival` says otherwise). Absent: closed loop. */
  rate?: number;
  /**
   * Open loop: how requests are due: `uniform` (default with a rate), `poisson`
   * (with a rate), or a trace, `intervals:FILE`, `timestamps:FILE` (ms, one a
   * line) or `azure:FILE` (the Azure Functions 2019 invocation counts per
   * minute), which needs no rate.
   */
  arrival?: string;
  /** Poisson arrivals and the Azure trace's spread within a minute: the PRNG seed. Default: random (reported). */
  seed?: number;
  /** Traces: replay this many times faster. Default 1. */
  traceSpeed?: number;
  /** Azure trace: how each minute's count is spread over it. Default uniform. */
  traceSpread?: AzureSpread;
  /**
   * A probe stream beside the load: requests due evenly at `rate` per second
   * on connections of their own (default 2), to `url` (default the load's);
   * recorded with "probe":true and summarised apart.
   */
  probe?: { rate: number; url?: string; connections?: number };
  /**
   * Measure until precise: the measured window ends once the 95% interval of
   * this percentile (50, 90, 99 or 99.9) lies within `precision` (0.05: ±5%)
   * of it, or at `durationMs` (then the result says it was not reached).
   */
  untilCi?: { precision: number; percentile: number };
  /**
   * Open loop: the window ends early when sends fall too far behind the plan
   * (the target cannot keep up). False keeps sending to the end, behind or
   * not, for a harness that measures how a load fares under stress (soak:attack). Default true.
   */
  stopWhenBehind?: boolean;
  /** Requests in the first warmupMs are recorded (flagged) but left out of the figures. Default 2 s. */
  warmupMs?: number;
  /** NDJSON file to append one record per request to; absent: no records. */
  out?: string;
  /** Copied onto every record. */
  label?: string;
  /** Per request, from t0. Default 10 s. */
  timeoutMs?: number;
  method?: string;
  headers?: Record<string, string>;
  /** Send a W3C traceparent with every request, a new trace id each (on its record as trace_id). */
  traceparent?: boolean;
  /** Sent as Accept-Encoding (e.g. "gzip"): the answer may come compressed, and `bytes` counts it as it came. */
  acceptEncoding?: string;
  body?: string | Buffer;
  /** Open loop: a send later than this after its due time counts as late. Default 2 ms (timer granularity is ~1 ms). */
  lateThresholdMs?: number;
  /** Pass/fail expressions judged on the measured window, e.g. "p99<20ms", "error_rate<=0.01" (see thresholds.ts). */
  thresholds?: readonly string[];
  /** Stops early; records are still flushed and a result returned. */
  signal?: AbortSignal;
  onProgress?: (progress: CallerProgress) => void;
  /** Warnings while the run goes on (the arrival check's shortfall); the CLI prints them on stderr. */
  onWarning?: (message: string) => void;
  progressIntervalMs?: number;
  /** The caller's own saturation samples (self-check, and into the records): this often. Default 1 s. */
  sampleIntervalMs?: number;
  /**
   * Kernel stamps: each record names the connection its response came on, and
   * the run traces its sockets in the kernel (bpftrace, root; needs `out`).
   * 'external': the connections only, the tracer being run by whoever runs
   * this (faasbench run keeps one for all its cells).
   */
  kernelStamps?: boolean | 'external';
}

export const DEFAULTS = {
  connections: 150,
  durationMs: 10_000,
  warmupMs: 2_000,
  timeoutMs: 10_000,
  lateThresholdMs: 2,
  progressIntervalMs: 1_000,
  sampleIntervalMs: 1_000,
} as const;

export class CallerOptionsError extends Error {
  override name = 'CallerOptionsError';
}

/** One server the connections go to, with its own request head (its Host header). */
export interface CallTarget {
  url: URL;
  host: string;
  port: number;
  /** The request head up to the id: an id costs one concatenation. */
  headBeforeId: string;
}

export interface ResolvedOptions {
  /** The first target's; `targets` has them all. */
  url: URL;
  host: string;
  port: number;
  targets: CallTarget[];
  startAt: number | null;
  /** Path and query as on the request line. */
  path: string;
  method: string;
  connections: number;
  durationMs: number | null;
  requests: number | null;
  /** The planned mean rate (per second) of an open loop; null for a closed loop. */
  rate: number | null;
  /** Open loop: when each request is due. */
  schedule: Schedule | null;
  arrival: Arrival | null;
  seed: number | null;
  probe: { rate: number; urls: string[]; connections: number } | null;
  untilCi: { precision: number; percentile: number } | null;
  stopWhenBehind: boolean;
  warmupMs: number;
  timeoutMs: number;
  lateThresholdMs: number;
  out: string | undefined;
  label: string | undefined;
  body: Buffer | null;
  thresholds: Threshold[];
  /** The request head from after the id (the part before it is each target's). */
  headAfterId: string;
  /** Random per run, so ids are unique across runs and hosts; the gateway accepts [\w.:-]{1,128}. */
  idPrefix: string;
  /** With traceparent: the first 16 hex digits of every trace id and the first 8 of every span id, random per run (the rest is the request's counter). */
  trace: { tracePrefix: string; spanPrefix: string } | null;
  /** tcp:// URLs: the call each request makes; null for HTTP. */
  tcp: TcpCall | null;
  /** Records name each response's connection (kernel stamps). */
  links: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function positive(name: string, value: number | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new CallerOptionsError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
  return value;
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CallerOptionsError(`not a valid URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'tcp:') throw new CallerOptionsError(`only http:// and tcp:// URLs are supported, got ${url.protocol}//`);
  return url;
}

/** How far ahead a start time may be: further is taken for a mistake rather than waited for. */
export const MAX_START_AHEAD_MS = 24 * 3_600_000;

export function resolveOptions(o: CallerOptions): ResolvedOptions {
  const urls = (typeof o.url === 'string' ? [o.url] : o.url).map(parseUrl);
  if (urls.length === 0) throw new CallerOptionsError('give at least one URL');
  const url = urls[0]!;
  // One protocol and one path for the whole run: the records carry the path once per run.
  for (const u of urls) {
    if (u.protocol !== url.protocol || u.pathname + u.search !== url.pathname + url.search) {
      throw new CallerOptionsError(`every URL must have the same protocol, path and query: ${u.href} differs from ${url.href}`);
    }
  }
  const tcp = url.protocol === 'tcp:' ? tcpCall(urls, o) : null;
  const startAt = o.startAt ?? null;
  if (startAt !== null && !(Number.isFinite(startAt) && startAt - Date.now() <= MAX_START_AHEAD_MS)) {
    throw new CallerOptionsError(`the start time must be at most 24 h from now, got ${Number.isFinite(startAt) ? new Date(startAt).toISOString() : startAt}`);
  }
  const connections = positive('connections', o.connections, true) ?? DEFAULTS.connections;
  if (connections > 10_000) throw new CallerOptionsError('connections must be at most 10000');
  const requests = positive('requests', o.requests, true) ?? null;
  if (requests !== null && o.durationMs !== undefined) {
    throw new CallerOptionsError('give either a duration or a number of requests, not both');
  }
  const { schedule, arrival, seed } = arrivalsOf(o, requests);
  const durationMs = requests === null ? (positive('duration', o.durationMs, false) ?? defaultDuration(schedule, o.warmupMs)) : null;
  const rate = schedule?.rate ?? null;
  const probe = probeOf(o, urls);
  const untilCi = untilCiOf(o, requests);
  const warmupMs = o.warmupMs ?? DEFAULTS.warmupMs;
  if (!Number.isFinite(warmupMs) || warmupMs < 0) throw new CallerOptionsError(`warm-up must be 0 or more, got ${warmupMs}`);
  const timeoutMs = positive('timeout', o.timeoutMs, false) ?? DEFAULTS.timeoutMs;
  const lateThresholdMs = o.lateThresholdMs ?? DEFAULTS.lateThresholdMs;
  if (!(lateThresholdMs >= 0)) throw new CallerOptionsError('lateThresholdMs must be 0 or more');
  const method = (o.method ?? 'GET').toUpperCase();
  if (!TOKEN.test(method)) throw new CallerOptionsError(`not an HTTP method: ${JSON.stringify(o.method)}`);

  const thresholds = (o.thresholds ?? []).map((t) => {
    try {
      return parseThreshold(t);
    } catch (err) {
      throw new CallerOptionsError((err as Error).message);
    }
  });

  const body = o.body === undefined ? null : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(o.headers ?? {})) {
    if (!TOKEN.test(name)) throw new CallerOptionsError(`not a header name: ${JSON.stringify(name)}`);
    if (/[\r\n\0]/.test(value)) throw new CallerOptionsError(`header ${name} has a line break in its value`);
    const lower = name.toLowerCase();
    if (lower === 'x-request-id' || lower === 'content-length' || lower === 'transfer-encoding' || (o.traceparent && lower === 'traceparent')) {
      throw new CallerOptionsError(`header ${name} is set by the caller itself`);
    }
    headers[lower] = value;
  }
  if (o.acceptEncoding !== undefined) {
    if (!/^[\w*;=.,\s-]+$/.test(o.acceptEncoding)) throw new CallerOptionsError(`not an Accept-Encoding value: ${JSON.stringify(o.acceptEncoding)}`);
    headers['accept-encoding'] = o.acceptEncoding;
  }
  const userHost = headers.host;
  if (body !== null) {
    headers['content-type'] ??= 'application/octet-stream';
    headers['content-length'] = String(body.length);
  } else if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
    headers['content-length'] = '0';
  }
  const path = url.pathname + url.search;
  const targets = urls.map((u): CallTarget => {
    let head = `${method} ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries({ ...headers, host: userHost ?? u.host })) head += `${name}: ${value}\r\n`;
    return { url: u, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? 80 : Number(u.port), headBeforeId: head + 'x-request-id: ' };
  });

  return {
    url,
    host: targets[0]!.host,
    port: targets[0]!.port,
    targets,
    startAt,
    tcp,
    path,
    method,
    connections,
    durationMs,
    requests,
    rate,
    schedule,
    arrival,
    seed,
    probe,
    untilCi,
    stopWhenBehind: o.stopWhenBehind ?? true,
    warmupMs,
    timeoutMs,
    lateThresholdMs,
    out: o.out,
    label: o.label,
    body,
    thresholds,
    headAfterId: '\r\n\r\n',
    idPrefix: `c${randomBytes(6).toString('hex')}-`,
    trace: o.traceparent ? { tracePrefix: nonZeroHex(8), spanPrefix: nonZeroHex(4) } : null,
    links: o.kernelStamps === true || o.kernelStamps === 'external',
  };
}

function arrivalsOf(o: CallerOptions, requests: number | null): { schedule: Schedule | null; arrival: Arrival | null; seed: number | null } {
  const rate = positive('rate', o.rate, false);
  if (o.arrival === undefined && rate === undefined) return { schedule: null, arrival: null, seed: null };
  try {
    const arrival = parseArrival(o.arrival ?? 'uniform');
    if (arrival.kind === 'trace' && rate !== undefined) throw new CallerOptionsError('a trace sets its own rate: give no --rate with it');
    if (arrival.kind === 'trace' && requests !== null) throw new CallerOptionsError('a trace replays for a duration (by default, all of it), not for a number of requests');
    if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32)) throw new CallerOptionsError(`the seed must be an integer from 0 to 2^32 − 1, got ${o.seed}`);
    const random = arrival.kind === 'poisson' || (arrival.kind === 'trace' && arrival.format === 'azure');
    const seed = random ? (o.seed ?? randomBytes(4).readUInt32LE(0)) : null;
    const schedule = scheduleOf(arrival, { rate, seed: seed ?? 0, speed: o.traceSpeed, spread: o.traceSpread });
    return { schedule, arrival, seed };
  } catch (err) {
    if (err instanceof ArrivalError) throw new CallerOptionsError(err.message);
    throw err;
  }
}

/** A trace runs to its end unless a duration is given; everything else runs the default duration. */
function defaultDuration(schedule: Schedule | null, warmupMs: number = DEFAULTS.warmupMs): number {
  if (schedule?.lastNs == null) return DEFAULTS.durationMs;
  const ms = schedule.lastNs / 1e6 - warmupMs;
  if (!(ms > 0)) throw new CallerOptionsError(`the trace lasts ${(schedule.lastNs / 1e9).toFixed(3)} s, no longer than the warm-up`);
  // Its last arrival is due just before the planned end.
  return ms + 0.001;
}

function probeOf(o: CallerOptions, urls: URL[]): ResolvedOptions['probe'] {
  if (o.probe === undefined) return null;
  const rate = positive('probe rate', o.probe.rate, false)!;
  const connections = positive('probe connections', o.probe.connections, true) ?? 2;
  const probeUrls = o.probe.url === undefined ? urls.map((u) => u.href) : [o.probe.url];
  for (const u of probeUrls.map(parseUrl)) if (u.protocol !== urls[0]!.protocol) throw new CallerOptionsError('the probe URL must use the load\'s protocol');
  return { rate, urls: probeUrls, connections };
}

export const CI_PERCENTILES = [50, 90, 99, 99.9] as const;

function untilCiOf(o: CallerOptions, requests: number | null): ResolvedOptions['untilCi'] {
  if (o.untilCi === undefined) return null;
  const { precision, percentile } = o.untilCi;
  if (!(precision > 0 && precision < 1)) throw new CallerOptionsError(`the precision of --until-ci must be above 0% and below 100%, got ${precision * 100}%`);
  if (!(CI_PERCENTILES as readonly number[]).includes(percentile)) throw new CallerOptionsError(`--until-ci judges p50, p90, p99 or p99.9, got p${percentile}`);
  if (requests !== null) throw new CallerOptionsError('--until-ci ends a cell by its precision: give it a --max-duration, not a number of requests');
  return { precision, percentile };
}

/** Random hex digits, never all zero (W3C Trace Context forbids all-zero ids). */
function nonZeroHex(bytes: number): string {
  const b = randomBytes(bytes);
  b[0] = b[0]! | 0x80;
  return b.toString('hex');
}

/**
 * A tcp:// URL as the call it makes: the function is the path, the query its
 * arguments, read as the HTTP gateway reads them (a fixed endpoint's
 * parameters checked and typed; any other function's as strings), so that a
 * call to a worker with no gateway in front is the same call.
 */
function tcpCall(urls: readonly URL[], o: CallerOptions): TcpCall {
  const url = urls[0]!;
  if (urls.some((u) => u.port === '')) throw new CallerOptionsError('a tcp:// URL needs a port: tcp://HOST:PORT/FUNCTION?ARGS');
  const fn = url.pathname.slice(1);
  if (!/^[a-z][a-z0-9_-]*$/.test(fn)) throw new CallerOptionsError(`a tcp:// URL names a function as its path, e.g. tcp://127.0.0.1:9090/math?n=1000; got ${JSON.stringify(url.pathname)}`);
  if (o.body !== undefined || (o.method !== undefined && o.method.toUpperCase() !== 'GET')) throw new CallerOptionsError('tcp:// calls take no method or body');
  let args: Record<string, unknown>;
  if (isEndpointName(fn)) {
    const params = url.searchParams;
    try {
      args = ENDPOINTS[fn].args((k) => {
        const all = params.getAll(k);
        return all.length > 1 ? all : all[0];
      });
    } catch (err) {
      if (err instanceof ParameterError) throw new CallerOptionsError(err.message);
      throw err;
    }
  } else args = functionArgs(url.pathname + url.search);
  return { fn, args, secret: o.secret, statusOf: (code) => (isErrorCode(code) ? ERRORS[code] : 502) };
}
