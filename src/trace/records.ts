/**
 * The record schema: the public contract between the roles and the analysis.
 * One NDJSON line per request per role. Stamps are decimal strings of
 * monotonic nanoseconds (exact beyond 2^53); `null` where a stamp was not taken.
 * Documented in docs/records.md; change both together.
 */
import { hostname } from 'node:os';
import { stampText } from './clock.js';
import type { Sample } from './sampler.js';

/**
 * The `host` of every record: the machine's name, or $FAASBENCH_HOST where
 * hosts share a name (containers, network namespaces, cloned VMs) and the
 * analysis must still tell their clocks apart.
 */
export const HOST = process.env.FAASBENCH_HOST || hostname();
const hostJson = JSON.stringify(HOST);

/** A record file (or requests.csv) named *.gz is gzipped: written so by every role, read so by the analysis. */
export const isGzipFile = (file: string): boolean => /\.gz$/i.test(file);

/** The worker's four stamps of a call (docs/measurement.md): one type for the reply, the records and the metrics. */
export interface WorkerStamps {
  t3_recv: bigint;
  t3_start: bigint;
  t3_end: bigint;
  t3_send: bigint;
}

/** The stamps alone, so that a record kept for later does not hold the reply's result. */
export function workerStampsOf(w: WorkerStamps): WorkerStamps {
  return { t3_recv: w.t3_recv, t3_start: w.t3_start, t3_end: w.t3_end, t3_send: w.t3_send };
}

export interface GatewayRecord {
  id: string;
  framework: string;
  fn: string | null;
  status: number;
  error: string | null;
  t1: bigint;
  t2: bigint | null;
  t4: bigint | null;
  t5: bigint;
  worker: WorkerStamps | null;
  /** host:port of the worker that ran the call. */
  workerAddress: string | null;
  /** The gateway's balancing policy, which chose that worker, among how many workers it was given. */
  balance: string;
  workers: number;
  /** The trace id of the request's W3C traceparent; written only when there was one. */
  traceId?: string | null;
  /** The first attempt of a call retried on another worker; written only then. */
  retry?: { worker: string; t2: bigint | null; failed: bigint; error: string } | null;
}

/** The optional last field of a record: a W3C trace id (32 hex digits, nothing to escape). */
const traceField = (traceId: string | null | undefined) => (traceId ? `,"trace_id":"${traceId}"` : '');

export function formatGatewayRecord(r: GatewayRecord): string {
  const w = r.worker;
  return (
    `{"role":"gateway","host":${hostJson},"id":${JSON.stringify(r.id)},"framework":"${r.framework}"` +
    `,"fn":${r.fn === null ? 'null' : `"${r.fn}"`},"status":${r.status}` +
    `,"error":${r.error === null ? 'null' : `"${r.error}"`}` +
    `,"t1":${stampText(r.t1)},"t2":${stampText(r.t2)}` +
    `,"t3_recv":${stampText(w?.t3_recv)},"t3_start":${stampText(w?.t3_start)}` +
    `,"t3_end":${stampText(w?.t3_end)},"t3_send":${stampText(w?.t3_send)}` +
    `,"t4":${stampText(r.t4)},"t5":${stampText(r.t5)}` +
    `,"worker":${r.workerAddress === null ? 'null' : JSON.stringify(r.workerAddress)},"balance":"${r.balance}","workers":${r.workers}` +
    (r.retry ? retryField(r.retry) : '') +
    `${traceField(r.traceId)}}\n`
  );
}

function retryField(a: NonNullable<GatewayRecord['retry']>): string {
  return `,"retry":{"worker":${JSON.stringify(a.worker)},"t2":${stampText(a.t2)},"failed":${stampText(a.failed)},"error":"${a.error}"}`;
}

/**
 * A change of a gateway's worker set (rpc/fleet.ts): one line per event, in
 * the gateway's record file; `active` lists the workers that take calls from
 * `t` on. Also written by `faasbench run` for what it does to the fleet
 * (role "run": a worker killed; role "scaler": a scaling decision). The
 * analysis of requests skips these lines (type "fleet").
 */
export interface FleetRecord {
  role: 'gateway' | 'run' | 'scaler';
  /** The gateway's framework, the scaler's policy. */
  part: string;
  t: bigint;
  event: string;
  worker: string | null;
  active?: string[];
  detail?: string;
  /** Any numbers the event carries (a scaler's observation and decision). */
  values?: Record<string, number | boolean>;
}

export function formatFleetRecord(r: FleetRecord): string {
  let line =
    `{"role":"${r.role}","type":"fleet","host":${hostJson},"pid":${process.pid},"part":${JSON.stringify(r.part)},"t":${stampText(r.t)}` +
    `,"event":${JSON.stringify(r.event)},"worker":${r.worker === null ? 'null' : JSON.stringify(r.worker)}`;
  if (r.active) line += `,"active":${JSON.stringify(r.active)}`;
  if (r.detail !== undefined) line += `,"detail":${JSON.stringify(r.detail)}`;
  for (const [k, v] of Object.entries(r.values ?? {})) line += `,${JSON.stringify(k)}:${Number.isFinite(v) || typeof v === 'boolean' ? v : 'null'}`;
  return `${line}}\n`;
}

export interface WorkerRecord extends WorkerStamps {
  id: string;
  fn: string;
  error: string | null;
  traceId?: string | null;
  /** The instance that ran the call; its cold-start stamps when the call started it. */
  instance: { instance: string; cold: { spawn: bigint; loaded: bigint; init: bigint } | null } | null;
}

export function formatWorkerRecord(r: WorkerRecord): string {
  return (
    `{"role":"worker","host":${hostJson},"id":${JSON.stringify(r.id)},"fn":${JSON.stringify(r.fn)}` +
    `,"error":${r.error === null ? 'null' : `"${r.error}"`}` +
    `,"t3_recv":${stampText(r.t3_recv)},"t3_start":${stampText(r.t3_start)}` +
    `,"t3_end":${stampText(r.t3_end)},"t3_send":${stampText(r.t3_send)}` +
    instanceFields(r.instance) +
    `${traceField(r.traceId)}}\n`
  );
}

/** instance, cold, and a cold call's cold_spawn / cold_loaded / cold_init stamps. */
function instanceFields(use: WorkerRecord['instance']): string {
  if (use === null) return ',"instance":null,"cold":null';
  const c = use.cold;
  const head = `,"instance":${JSON.stringify(use.instance)},"cold":${c !== null}`;
  return c === null ? head : `${head},"cold_spawn":${stampText(c.spawn)},"cold_loaded":${stampText(c.loaded)},"cold_init":${stampText(c.init)}`;
}

export type SampledRole = 'caller' | 'gateway' | 'worker';

/**
 * A saturation sample (sampler.ts): one line per role process about once a
 * second, in the same file as its requests. `type` tells it from a request
 * record; `fixed` names the process's part in the run (the gateway's
 * framework, the caller's label), rendered once.
 */
export function sampleRecordFormatter(role: SampledRole, fixed: Record<string, string | undefined> = {}): (s: Sample) => string {
  let head = `{"role":"${role}","type":"sample","host":${hostJson},"pid":${process.pid}`;
  for (const [key, value] of Object.entries(fixed)) if (value !== undefined) head += `,"${key}":${JSON.stringify(value)}`;
  const num = (v: number | null) => (v === null ? 'null' : String(v));
  return (s) => {
    let line =
      `${head},"t":${stampText(s.t)},"interval_ms":${round3(s.intervalMs)},"elu":${round3(s.elu)}` +
      `,"delay_p50_us":${num(s.delayP50Us)},"delay_p99_us":${num(s.delayP99Us)},"delay_max_us":${num(s.delayMaxUs)}` +
      `,"cpu_user_us":${s.cpuUserUs},"cpu_system_us":${s.cpuSystemUs},"rss_bytes":${s.rssBytes}` +
      `,"gc_pause_us":${s.gcPauseUs},"gc_max_pause_us":${s.gcMaxPauseUs},"gc_count":${s.gcCount}`;
    for (const [key, value] of Object.entries(s.gauges)) line += `,"${key}":${value}`;
    return `${line}}\n`;
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The caller's clock anchor: one line per caller run pairing a monotonic
 * stamp with wall-clock time (epoch ms), so the analysis can put requests on
 * a calendar without ever stamping them with the jumpy wall clock.
 */
export function formatClockRecord(role: SampledRole, t: bigint, wallMs: number): string {
  return `{"role":"${role}","type":"clock","host":${hostJson},"pid":${process.pid},"t":${stampText(t)},"wall_ms":${round3(wallMs)}}\n`;
}

/*
 * The caller's record: one NDJSON line per request, warm-up and failures
 * included. The analysis joins it to the gateway's and worker's
 * records by `id`. Change names only together with the analysis.
 *
 *   {"role":"caller","host":"h1","id":"c1a2b3c4d5e6f-2s","method":"GET","path":"/empty?x=1",
 *    "connections":150,"warmup":false,"status":200,"bytes":123,"error":null,
 *    "t0":"<ns>","t6":"<ns>","t0_intended":"<ns>","label":"..."}
 *
 * - t0: request handed to the socket; t6: response fully received, or for a
 *   failure the moment it failed. Monotonic ns of this host, decimal strings.
 * - t0_intended: only in open-loop runs, when the request was due.
 * - status: 0 when no response came. bytes: response bytes received on the
 *   wire (status line, headers and body; for a failure, what had arrived).
 * - error: null, or a short lowercase class: "timeout", "econnrefused",
 *   "econnreset", "socket_closed", "parse_error", "aborted", or another
 *   lowercased socket error code.
 * - label: only when the run was given one.
 */

/** What is fixed for a whole run: rendered once, not per request. */
export interface CallerRunFields {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  connections: number;
  label?: string | undefined;
}

/** What differs per request. */
export interface CallerOutcome {
  id: string;
  warmup: boolean;
  status: number;
  bytes: number;
  error: string | null;
  t0: bigint;
  t6: bigint;
  t0_intended: bigint | null;
  /** The W3C trace id sent in the request's traceparent. */
  traceId?: string | null;
}

export type CallerRecord = CallerRunFields & CallerOutcome;

/**
 * The hot-path formatter: the run's constant parts are rendered once, so a
 * record costs a few string concatenations (pino's habit: format now,
 * interpret later).
 */
export function callerRecordFormatter(run: CallerRunFields): (r: CallerOutcome) => string {
  const head = `{"role":"caller","host":${hostJson},"id":`;
  const fixed =
    `,"method":${JSON.stringify(run.method)},"path":${JSON.stringify(run.path)}` +
    `,"connections":${run.connections},"warmup":`;
  const label = run.label === undefined ? '' : `,"label":${JSON.stringify(run.label)}`;
  return (r) =>
    head +
    JSON.stringify(r.id) +
    fixed +
    (r.warmup ? 'true' : 'false') +
    `,"status":${r.status},"bytes":${r.bytes},"error":${r.error === null ? 'null' : JSON.stringify(r.error)}` +
    `,"t0":${stampText(r.t0)},"t6":${stampText(r.t6)}` +
    (r.t0_intended === null ? '' : `,"t0_intended":${stampText(r.t0_intended)}`) +
    label +
    traceField(r.traceId) +
    '}\n';
}

export function formatCallerRecord(r: CallerRecord): string {
  return callerRecordFormatter(r)(r);
}
