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

/**
 * The one escaping path of every string field of every record: JSON's own.
 * Fields that come from a client (a function's name, a request id, a
 * gateway's error code relayed from elsewhere) go through it like the rest,
 * so no byte a client chose can end a field, a line or a record. Names repeat:
 * the last few escaped are kept, so the hot path escapes "empty" once.
 */
export function jsonString(s: string): string {
  const hit = escaped.get(s);
  if (hit !== undefined) return hit;
  const text = JSON.stringify(s);
  if (s.length <= 64) {
    if (escaped.size >= 256) escaped.clear();
    escaped.set(s, text);
  }
  return text;
}
const escaped = new Map<string, string>();
const nullableString = (s: string | null) => (s === null ? 'null' : jsonString(s));

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
  /** A nested call through this gateway (its x-faasbench-call header): the call that made it (docs/composition.md). */
  parent?: string | null;
  /** With kernel stamps: where the request and the call's reply arrived. */
  links?: { front: FrameAt | null; rpc: FrameAt | null };
}

/** The optional last field of a record: a W3C trace id (32 hex digits, checked where it came in; escaped all the same). */
const traceField = (traceId: string | null | undefined) => (traceId ? `,"trace_id":${JSON.stringify(traceId)}` : '');

export function formatGatewayRecord(r: GatewayRecord): string {
  const w = r.worker;
  return (
    `{"role":"gateway","host":${hostJson},"id":${JSON.stringify(r.id)},"framework":${jsonString(r.framework)}` +
    `,"fn":${nullableString(r.fn)},"status":${r.status}` +
    `,"error":${nullableString(r.error)}` +
    `,"t1":${stampText(r.t1)},"t2":${stampText(r.t2)}` +
    `,"t3_recv":${stampText(w?.t3_recv)},"t3_start":${stampText(w?.t3_start)}` +
    `,"t3_end":${stampText(w?.t3_end)},"t3_send":${stampText(w?.t3_send)}` +
    `,"t4":${stampText(r.t4)},"t5":${stampText(r.t5)}` +
    `,"worker":${nullableString(r.workerAddress)},"balance":${jsonString(r.balance)},"workers":${r.workers}` +
    (r.retry ? retryField(r.retry) : '') +
    (r.links ? gatewayLinkFields(r.links.front, r.links.rpc) : '') +
    (r.parent ? `,"parent":${JSON.stringify(r.parent)}` : '') +
    `${traceField(r.traceId)}}\n`
  );
}

function retryField(a: NonNullable<GatewayRecord['retry']>): string {
  return `,"retry":{"worker":${JSON.stringify(a.worker)},"t2":${stampText(a.t2)},"failed":${stampText(a.failed)},"error":${jsonString(a.error)}}`;
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
  /** With kernel stamps: where the call arrived. */
  at?: FrameAt | null;
  /** A nested call: the call that made it and its depth (docs/composition.md, "Nested calls in the records"). */
  nesting?: { parent: string; depth: number } | null;
  /** The nested calls this call made, as it saw them. */
  calls?: readonly OutgoingCall[] | null;
}

/**
 * A nested call seen from the call that made it: the caller's side of a hop.
 * Its stamps are taken in the thread that runs the calling function (the
 * worker's own for a workflow), on the caller's clock.
 */
export interface OutgoingCall {
  id: string;
  fn: string;
  /** How it travelled: local, rpc or http. */
  via: string;
  /** The workflow step it ran, when a workflow made it. */
  step: string | null;
  /** The error it answered, as the caller got it; null on success. */
  error: string | null;
  /** The call was made. */
  c_send: bigint;
  /** Its outcome was back; null when the caller had ended before (a call not waited for). */
  c_recv: bigint | null;
}

export function formatWorkerRecord(r: WorkerRecord): string {
  return (
    `{"role":"worker","host":${hostJson},"id":${JSON.stringify(r.id)},"fn":${jsonString(r.fn)}` +
    `,"error":${nullableString(r.error)}` +
    `,"t3_recv":${stampText(r.t3_recv)},"t3_start":${stampText(r.t3_start)}` +
    `,"t3_end":${stampText(r.t3_end)},"t3_send":${stampText(r.t3_send)}` +
    instanceFields(r.instance) +
    (r.at === undefined ? '' : linkFields(r.at)) +
    traceField(r.traceId) +
    (r.nesting ? `,"parent":${JSON.stringify(r.nesting.parent)},"depth":${r.nesting.depth}` : '') +
    (r.calls && r.calls.length > 0 ? `,"calls":[${r.calls.map(callField).join(',')}]` : '') +
    '}\n'
  );
}

function callField(c: OutgoingCall): string {
  return (
    `{"id":${JSON.stringify(c.id)},"fn":${JSON.stringify(c.fn)},"via":"${c.via}","step":${c.step === null ? 'null' : JSON.stringify(c.step)}` +
    `,"error":${c.error === null ? 'null' : JSON.stringify(c.error)},"c_send":${stampText(c.c_send)},"c_recv":${stampText(c.c_recv)}}`
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
 * - probe: true only on the requests of a probe stream (caller --probe-rate),
 *   which ran on connections of their own beside the load.
 */

/** What is fixed for a whole run: rendered once, not per request. */
export interface CallerRunFields {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  connections: number;
  label?: string | undefined;
  /** A probe stream's requests (caller --probe-rate). */
  probe?: boolean;
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
  /** With kernel stamps: the connection the response arrived on. */
  conn?: string | null;
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
  const label = (run.label === undefined ? '' : `,"label":${JSON.stringify(run.label)}`) + (run.probe ? ',"probe":true' : '');
  return (r) =>
    head +
    JSON.stringify(r.id) +
    fixed +
    (r.warmup ? 'true' : 'false') +
    `,"status":${r.status},"bytes":${r.bytes},"error":${r.error === null ? 'null' : JSON.stringify(r.error)}` +
    `,"t0":${stampText(r.t0)},"t6":${stampText(r.t6)}` +
    (r.t0_intended === null ? '' : `,"t0_intended":${stampText(r.t0_intended)}`) +
    label +
    (r.conn === undefined ? '' : `,"conn":${r.conn === null ? 'null' : JSON.stringify(r.conn)}`) +
    traceField(r.traceId) +
    '}\n';
}

export function formatCallerRecord(r: CallerRecord): string {
  return callerRecordFormatter(r)(r);
}

/*
 * Kernel stamps (`--kernel-stamps`, docs/records.md#kernel-stamps): the
 * kernel's own lines come from the role's tracer (src/kernel/), and the
 * request records gain where each message travelled, so that the analysis
 * can find its segments: the connection as the kernel names it
 * ("local>peer") and, on a connection that carries many frames at once, the
 * frame's byte offset in the stream.
 */

/** The start of every kernel line of a role; the tracer's script appends the rest. */
export function kernelRecordHead(role: SampledRole, host: string = HOST): string {
  return `{"role":"${role}","type":"kernel","host":${JSON.stringify(host)}`;
}

/** Where a message arrived: its connection, and on a multiplexed one (RPC) its first byte's offset in the stream. */
export interface FrameAt {
  conn: string;
  /** null on a connection with one message at a time (HTTP/1.1): its order tells the messages apart. */
  off: number | null;
}

/** The link fields of a record, `name` and `name`'s offset; `prefix` is "" or "rpc_". */
function linkField(prefix: string, at: FrameAt | null): string {
  if (at === null) return `,"${prefix}conn":null`;
  const off = at.off === null ? '' : `,"${prefix}off":${at.off}`;
  return `,"${prefix}conn":${JSON.stringify(at.conn)}${off}`;
}

/** A gateway record's links: the request's (from the caller) and its call's reply's (from the worker). */
export function gatewayLinkFields(front: FrameAt | null, rpc: FrameAt | null): string {
  return linkField('', front) + linkField('rpc_', rpc);
}

/** A worker record's or a caller record's link: where its call or response arrived. */
export function linkFields(at: FrameAt | null): string {
  return linkField('', at);
}
