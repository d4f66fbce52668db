/**
 * Turns one NDJSON line into columns of the request table. Nothing here
 * throws for bad input: a line that is not JSON, not a record, or carries an
 * unreadable stamp is counted by reason (with a few examples) and skipped.
 * A second record of the same role for an id is a duplicate: counted, the
 * first one kept.
 */
import { ABSENT, equals, FlatLine, K, NUMBER, STRING, TRUE } from './flat-json.js';
import { LineFields, ObjectFields, type Fields } from './fields.js';
import { checkOrder, StampError } from './stamps.js';
import { KernelIngest } from './kernel.js';
import {
  COLD,
  HAS_CALLER,
  HAS_GATEWAY,
  HAS_WORKER,
  RequestTable,
  T3_FROM_GATEWAY,
  T3_FROM_WORKER,
  WARMUP,
  PROBE,
} from './table.js';

export type Role = 'caller' | 'gateway' | 'worker';

export interface RejectedExample {
  file: string;
  line: number;
  reason: string;
  text: string;
}

export interface IngestCounts {
  lines: number;
  records: Record<Role, number>;
  duplicates: Record<Role, number>;
  /** Reason → lines skipped for it ("not JSON", "no id", "unknown role", "bad stamp", "stamps out of order", "stamps over 24.8 days apart"). */
  rejected: Record<string, number>;
  examples: RejectedExample[];
  /** The gateway's copy of a worker's stamps differs from the worker's own record. */
  workerCopyMismatch: number;
  /** Saturation samples read, by role. */
  samples: Record<Role, number>;
  /** Records of nested calls (with a `parent`): joined into trees by the composition figures (read/tree.ts), not into requests. */
  nested: Record<Role, number>;
}

/**
 * One saturation sample (src/trace/sampler.ts). `t` is the host's monotonic
 * clock as a double: exact to well under a µs for any uptime below years, and
 * samples are placed in windows of seconds.
 */
export interface SampleRow {
  role: Role;
  host: string;
  pid: number;
  /** The gateway's framework, the caller's label; null when none. */
  part: string | null;
  t: number;
  interval_ms: number;
  elu: number;
  delay_p50_us: number | null;
  delay_p99_us: number | null;
  delay_max_us: number | null;
  cpu_user_us: number;
  cpu_system_us: number;
  rss_bytes: number;
  /** The garbage collector's pauses of the main thread over the interval; null in records that predate them. */
  gc_pause_us: number | null;
  gc_max_pause_us: number | null;
  /** inflight, connections, pool_running, pool_queued: whichever the role has. */
  gauges: Record<string, number>;
}

/** A caller run's clock anchor: wall time (epoch ms) beside a monotonic stamp of its host. */
export interface ClockAnchor {
  host: string;
  t: number;
  wall_ms: number;
}

const SAMPLE_FIELDS = new Set([
  'role', 'type', 'host', 'pid', 'framework', 'label', 't', 'interval_ms', 'elu', 'delay_p50_us', 'delay_p99_us',
  'delay_max_us', 'cpu_user_us', 'cpu_system_us', 'rss_bytes', 'gc_pause_us', 'gc_max_pause_us', 'gc_count',
]);

const MAX_EXAMPLES = 5;

const CALLER = 1;
const GATEWAY = 2;
const WORKER = 3;
const NEWLINE = 0x0a;
const ROLE_BYTES = { caller: Buffer.from('caller'), gateway: Buffer.from('gateway'), worker: Buffer.from('worker') };
const KERNEL_BYTES = Buffer.from('kernel');

type Json = Record<string, unknown>;

export class Ingest {
  readonly counts: IngestCounts = {
    lines: 0,
    records: { caller: 0, gateway: 0, worker: 0 },
    duplicates: { caller: 0, gateway: 0, worker: 0 },
    rejected: {},
    examples: [],
    workerCopyMismatch: 0,
    samples: { caller: 0, gateway: 0, worker: 0 },
    nested: { caller: 0, gateway: 0, worker: 0 },
  };
  readonly samples: SampleRow[] = [];
  readonly anchors: ClockAnchor[] = [];
  private readonly baseDiffs = new Map<number, number>();

  /** Clock index by key prefix, then name: building the key string per line cost ~0.7 s over 4.5 M lines. */
  private readonly clocks = new Map<string, Map<string, number>>();
  private readonly copyClocks = new Map<string, Map<string, number>>();
  private readonly fields = new LineFields();
  private lastMethod: string | null = null;
  private lastPath: string | null = null;
  private lastRequest = 0;
  /** Kernel lines and the records' link fields (kernel.ts). */
  readonly kernel: KernelIngest;

  constructor(readonly table: RequestTable) {
    this.kernel = new KernelIngest(table);
  }

  private clockOf(prefix: string, name: string, host: string): number {
    let byName = this.clocks.get(prefix);
    if (!byName) this.clocks.set(prefix, (byName = new Map()));
    let clock = byName.get(name);
    if (clock === undefined) byName.set(name, (clock = this.table.clock(`${prefix} ${name}`, host)));
    return clock;
  }

  /** The gateway's copy of a worker's stamps: one clock per worker address as this gateway host names it. */
  private copyClockOf(gatewayHost: string, address: string): number {
    let byAddress = this.copyClocks.get(gatewayHost);
    if (!byAddress) this.copyClocks.set(gatewayHost, (byAddress = new Map()));
    let clock = byAddress.get(address);
    if (clock === undefined) byAddress.set(address, (clock = this.table.clock(`worker-copy ${gatewayHost} ${address}`, address)));
    return clock;
  }

  /**
   * The line at buf[start…], which a newline ends within buf, when it is a
   * plain record: read without JSON.parse (fields.ts); returns the index of
   * that newline, or −1 for any other line (then hand it to `bytes`).
   */
  scan(buf: Buffer, start: number, file: string, lineNumber: number): number {
    const f = this.fields;
    const l = f.line;
    const end = l.scan(buf, start);
    if (end < 0 || buf[end] !== NEWLINE) return -1;
    if (l.kindOf(K.type) === STRING && equals(l.buf, l.start[K.type]!, l.end[K.type]!, KERNEL_BYTES) && l.kindOf(K.sock) === NUMBER) {
      // A kernel tracer's line: several per request at 150 connections, so read as bytes too.
      this.counts.lines++;
      this.kernelLine(f, file, lineNumber, () => buf.toString('utf8', start, end));
      return end;
    }
    if (l.kindOf(K.type) !== ABSENT || l.kindOf(K.id) !== STRING || l.end[K.id]! === l.start[K.id]!) return -1;
    const role = this.roleOf(l);
    if (role === 0) return -1;
    this.counts.lines++;
    try {
      this.record(role, f);
    } catch (err) {
      if (!(err instanceof StampError)) throw err;
      this.reject(err.reason, file, lineNumber, buf.toString('utf8', start, end));
    }
    return end;
  }

  /** One line as bytes, buf[start, end), read as text. */
  bytes(buf: Buffer, start: number, end: number, file: string, lineNumber: number): void {
    this.line(buf.toString('utf8', start, end), file, lineNumber);
  }

  line(text: string, file: string, lineNumber: number): void {
    this.counts.lines++;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      return this.reject('not JSON', file, lineNumber, text);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
      return this.reject('not a JSON object', file, lineNumber, text);
    }
    const r = rec as Json;
    if (r.type === 'sample') return this.sample(r, file, lineNumber, text);
    if (r.type === 'clock') return this.anchor(r, file, lineNumber, text);
    // A change of a gateway's worker set, or what the run did to it: read by the fleet figures (run/fleet-*.ts), not here.
    if (r.type === 'fleet') return;
    if (r.type === 'kernel') {
      const role = r.role;
      if ((r.k === 'start' || r.k === 'stop') && (role === 'caller' || role === 'gateway' || role === 'worker')) {
        return this.kernel.tracer(role, str(r.host) ?? '?', r);
      }
      return this.kernelLine(new ObjectFields(r, ''), file, lineNumber, () => text);
    }
    const id = typeof r.id === 'string' ? r.id : typeof r.id === 'number' ? String(r.id) : null;
    if (id === null || id === '') return this.reject('no id', file, lineNumber, text);
    const role = r.role === 'caller' ? CALLER : r.role === 'gateway' ? GATEWAY : r.role === 'worker' ? WORKER : 0;
    if (role === 0) return this.reject('unknown role', file, lineNumber, text);
    try {
      this.record(role, new ObjectFields(r, id));
    } catch (err) {
      if (err instanceof StampError) return this.reject(err.reason, file, lineNumber, text);
      throw err;
    }
  }

  private roleOf(l: FlatLine): number {
    if (l.kindOf(K.role) !== STRING) return 0;
    const s = l.start[K.role]!;
    const e = l.end[K.role]!;
    if (equals(l.buf, s, e, ROLE_BYTES.gateway)) return GATEWAY;
    if (equals(l.buf, s, e, ROLE_BYTES.caller)) return CALLER;
    if (equals(l.buf, s, e, ROLE_BYTES.worker)) return WORKER;
    return 0;
  }

  private record(role: number, f: Fields): void {
    if (role !== CALLER && f.kind(K.parent) === STRING) {
      this.counts.nested[role === GATEWAY ? 'gateway' : 'worker']++;
      return;
    }
    if (role === CALLER) this.caller(f);
    else if (role === GATEWAY) this.gateway(f);
    else this.worker(f);
  }

  private sample(r: Json, file: string, lineNumber: number, text: string): void {
    const role = r.role;
    const t = typeof r.t === 'string' && /^\d{1,21}$/.test(r.t) ? Number(r.t) : NaN;
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
    const maybe = (v: unknown) => (v === null ? null : n(v));
    if ((role !== 'caller' && role !== 'gateway' && role !== 'worker') || !(t >= 0) || !(n(r.interval_ms) > 0) || !(n(r.elu) >= 0)) {
      return this.reject('bad sample', file, lineNumber, text);
    }
    const gauges: Record<string, number> = {};
    for (const [k, v] of Object.entries(r)) if (!SAMPLE_FIELDS.has(k) && typeof v === 'number') gauges[k] = v;
    this.counts.samples[role]++;
    this.samples.push({
      role,
      host: str(r.host) ?? '?',
      pid: n(r.pid),
      part: str(role === 'gateway' ? r.framework : r.label),
      t,
      interval_ms: n(r.interval_ms),
      elu: n(r.elu),
      delay_p50_us: maybe(r.delay_p50_us),
      delay_p99_us: maybe(r.delay_p99_us),
      delay_max_us: maybe(r.delay_max_us),
      cpu_user_us: n(r.cpu_user_us),
      cpu_system_us: n(r.cpu_system_us),
      rss_bytes: n(r.rss_bytes),
      gc_pause_us: r.gc_pause_us === undefined ? null : maybe(r.gc_pause_us),
      gc_max_pause_us: r.gc_max_pause_us === undefined ? null : maybe(r.gc_max_pause_us),
      gauges,
    });
  }

  private anchor(r: Json, file: string, lineNumber: number, text: string): void {
    const t = typeof r.t === 'string' && /^\d{1,21}$/.test(r.t) ? Number(r.t) : NaN;
    if (!(t >= 0) || typeof r.wall_ms !== 'number' || !Number.isFinite(r.wall_ms)) return this.reject('bad clock anchor', file, lineNumber, text);
    this.anchors.push({ host: str(r.host) ?? '?', t, wall_ms: r.wall_ms });
  }

  private kernelLine(f: Fields, file: string, lineNumber: number, text: () => string): void {
    const host = f.str(K.host) ?? '?';
    const role = f.str(K.role);
    let why: string | null;
    try {
      why = role === 'caller' || role === 'gateway' || role === 'worker' ? this.kernel.line(f, role, host, this.clockOf(role, host, host)) : 'bad kernel line';
    } catch (err) {
      if (!(err instanceof StampError)) throw err;
      why = 'bad stamp';
    }
    if (why !== null) this.reject(why, file, lineNumber, text());
  }

  private reject(reason: string, file: string, line: number, text: string): void {
    this.counts.rejected[reason] = (this.counts.rejected[reason] ?? 0) + 1;
    if (this.counts.examples.length < MAX_EXAMPLES) {
      this.counts.examples.push({ file, line, reason, text: text.length > 200 ? `${text.slice(0, 200)}…` : text });
    }
  }

  private caller(f: Fields): void {
    const t = this.table;
    const host = f.str(K.host) ?? '?';
    const clock = this.clockOf('caller', host, host);
    // Read every stamp before touching the table, so a bad stamp leaves no half record.
    const t0 = f.stamp(t.clocks, clock, K.t0);
    const t6 = f.stamp(t.clocks, clock, K.t6);
    const t0i = f.stamp(t.clocks, clock, K.t0_intended);
    checkOrder(t0i, t0, t6);
    const slot = f.slot(t);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_CALLER) return void this.counts.duplicates.caller++;
    this.counts.records.caller++;
    t.u8.flags[slot] = flags | HAS_CALLER | (f.kind(K.warmup) === TRUE ? WARMUP : 0) | (f.kind(K.probe) === TRUE ? PROBE : 0);
    t.u16.callerClock[slot] = clock;
    t.f64.t0[slot] = t0;
    t.f64.t6[slot] = t6;
    t.f64.t0_intended[slot] = t0i;
    t.i16.callerStatus[slot] = status(f, K.status);
    t.u16.callerError[slot] = t.errors.id(f.str(K.error));
    t.u32.connections[slot] = f.kind(K.connections) === NUMBER && f.num(K.connections) > 0 ? f.num(K.connections) : 0;
    t.f64.bytes[slot] = f.kind(K.bytes) === NUMBER ? f.num(K.bytes) : NaN;
    if (f.kind(K.trace_id) !== ABSENT) traceIdInto(t, slot, f.str(K.trace_id));
    t.u32.request[slot] = this.requestOf(f.str(K.method), f.str(K.path));
    t.u32.label[slot] = t.labels.id(f.str(K.label));
    if (f.kind(K.conn) !== ABSENT) this.kernel.caller(slot, host, f);
  }

  /** "METHOD path" interned; records of one run repeat it line after line. */
  private requestOf(method: string | null, path: string | null): number {
    if (path === null) return 0;
    if (method !== this.lastMethod || path !== this.lastPath) {
      this.lastMethod = method;
      this.lastPath = path;
      this.lastRequest = this.table.requests.id(`${method ?? 'GET'} ${path}`);
    }
    return this.lastRequest;
  }

  private gateway(f: Fields): void {
    const t = this.table;
    const host = f.str(K.host) ?? '?';
    const clock = this.clockOf('gateway', host, host);
    const t1 = f.stamp(t.clocks, clock, K.t1);
    const t2 = f.stamp(t.clocks, clock, K.t2);
    const t4 = f.stamp(t.clocks, clock, K.t4);
    const t5 = f.stamp(t.clocks, clock, K.t5);
    const address = f.str(K.worker);
    // The copied worker stamps are on the worker's clock: one clock per worker address seen from this gateway.
    const copyClock = this.copyClockOf(host, address ?? '?');
    const w0 = f.stamp(t.clocks, copyClock, K.t3_recv);
    const w1 = f.stamp(t.clocks, copyClock, K.t3_start);
    const w2 = f.stamp(t.clocks, copyClock, K.t3_end);
    const w3 = f.stamp(t.clocks, copyClock, K.t3_send);
    checkOrder(t1, t2, t4, t5);
    checkOrder(w0, w1, w2, w3);
    const slot = f.slot(t);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_GATEWAY) return void this.counts.duplicates.gateway++;
    this.counts.records.gateway++;
    t.u16.gatewayClock[slot] = clock;
    t.f64.t1[slot] = t1;
    t.f64.t2[slot] = t2;
    t.f64.t4[slot] = t4;
    t.f64.t5[slot] = t5;
    t.u8.framework[slot] = t.frameworks.id(f.str(K.framework) ?? '?');
    t.u8.fn[slot] = t.fns.id(f.str(K.fn));
    t.i16.gatewayStatus[slot] = status(f, K.status);
    t.u16.gatewayError[slot] = t.errors.id(f.str(K.error));
    t.u16.workerAddress[slot] = t.hosts.id(address);
    t.u8.balance[slot] = t.balances.id(f.str(K.balance));
    const workers = f.kind(K.workers) === NUMBER ? f.num(K.workers) : 0;
    t.u16.workerCount[slot] = workers > 0 && workers < 65536 ? workers : 0;
    if (f.kind(K.trace_id) !== ABSENT) traceIdInto(t, slot, f.str(K.trace_id));
    if (f.kind(K.conn) !== ABSENT || f.kind(K.rpc_conn) !== ABSENT) this.kernel.gateway(slot, host, f);
    let next = flags | HAS_GATEWAY;
    if (w0 === w0 || w3 === w3) {
      if (flags & T3_FROM_WORKER) this.compareCopy(slot, copyClock, w0, w1, w2, w3);
      else this.storeT3(slot, copyClock, w0, w1, w2, w3);
      next |= T3_FROM_GATEWAY;
    }
    t.u8.flags[slot] = next;
  }

  private worker(f: Fields): void {
    const t = this.table;
    const host = f.str(K.host) ?? '?';
    const clock = this.clockOf('worker', host, host);
    const w0 = f.stamp(t.clocks, clock, K.t3_recv);
    const w1 = f.stamp(t.clocks, clock, K.t3_start);
    const w2 = f.stamp(t.clocks, clock, K.t3_end);
    const w3 = f.stamp(t.clocks, clock, K.t3_send);
    checkOrder(w0, w1, w2, w3);
    const isCold = f.kind(K.cold) === TRUE;
    const cold = isCold ? [K.cold_spawn, K.cold_loaded, K.cold_init].map((k) => f.stamp(t.clocks, clock, k) - w0) : null;
    const slot = f.slot(t);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_WORKER) return void this.counts.duplicates.worker++;
    this.counts.records.worker++;
    t.u32.instance[slot] = t.instances.id(f.str(K.instance));
    if (cold !== null && cold.every((x) => x === x)) t.coldStamps.set(slot, cold as [number, number, number]);
    t.u16.workerHost[slot] = t.hosts.id(host);
    t.u8.workerFn[slot] = t.fns.id(f.str(K.fn));
    t.u16.workerError[slot] = t.errors.id(f.str(K.error));
    if (f.kind(K.conn) !== ABSENT) this.kernel.worker(slot, host, clock, f);
    if (flags & T3_FROM_GATEWAY) this.compareCopy(slot, clock, w0, w1, w2, w3);
    else this.storeT3(slot, clock, w0, w1, w2, w3);
    t.u8.flags[slot] = flags | HAS_WORKER | T3_FROM_WORKER | (isCold ? COLD : 0);
  }

  private storeT3(slot: number, clock: number, a: number, b: number, c: number, d: number): void {
    const f = this.table.f64;
    this.table.u16.t3Clock[slot] = clock;
    f.t3_recv[slot] = a;
    f.t3_start[slot] = b;
    f.t3_end[slot] = c;
    f.t3_send[slot] = d;
  }

  /** Both copies of the worker stamps are in: they must be the same instants (on clocks with different bases). */
  private compareCopy(slot: number, clock: number, a: number, b: number, c: number, d: number): void {
    const t = this.table;
    const stored = t.u16.t3Clock[slot]!;
    const key = stored * 65536 + clock;
    let shift = this.baseDiffs.get(key);
    if (shift === undefined) {
      shift = t.clocks.baseDifference(clock, stored);
      this.baseDiffs.set(key, shift);
    }
    const f = t.f64;
    const same = (x: number, y: number) => x + shift === y || (x !== x && y !== y);
    if (!same(a, f.t3_recv[slot]!) || !same(b, f.t3_start[slot]!) || !same(c, f.t3_end[slot]!) || !same(d, f.t3_send[slot]!)) {
      this.counts.workerCopyMismatch++;
    }
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function status(f: Fields, k: number): number {
  if (f.kind(k) !== NUMBER) return -1;
  const v = f.num(k);
  return Number.isInteger(v) && v >= 0 && v < 32768 ? v : -1;
}

/** A record's W3C trace id (32 lowercase hex digits), kept for the OTLP export. */
function traceIdInto(t: RequestTable, slot: number, traceId: string | null): void {
  if (traceId !== null && /^[0-9a-f]{32}$/.test(traceId)) t.traceIds.set(slot, traceId);
}
