/**
 * Turns one NDJSON line into columns of the request table. Nothing here
 * throws for bad input: a line that is not JSON, not a record, or carries an
 * unreadable stamp is counted by reason (with a few examples) and skipped.
 * A second record of the same role for an id is a duplicate: counted, the
 * first one kept.
 */
import { StampError } from './stamps.js';
import { KernelIngest } from './kernel.js';
import {
  HAS_CALLER,
  HAS_GATEWAY,
  HAS_WORKER,
  RequestTable,
  T3_FROM_GATEWAY,
  T3_FROM_WORKER,
  WARMUP,
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
  /** Reason → lines skipped for it ("not JSON", "no id", "unknown role", "bad stamp"). */
  rejected: Record<string, number>;
  examples: RejectedExample[];
  /** The gateway's copy of a worker's stamps differs from the worker's own record. */
  workerCopyMismatch: number;
  /** Saturation samples read, by role. */
  samples: Record<Role, number>;
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
  };
  readonly samples: SampleRow[] = [];
  readonly anchors: ClockAnchor[] = [];
  /** Kernel lines and the records' link fields (kernel.ts). */
  readonly kernel: KernelIngest;
  private readonly baseDiffs = new Map<number, number>();

  /** Clock index by key prefix, then name: building the key string per line cost ~0.7 s over 4.5 M lines. */
  private readonly clocks = new Map<string, Map<string, number>>();
  private readonly copyClocks = new Map<string, Map<string, number>>();

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
    if (r.type === 'kernel') return this.kernelLine(r, file, lineNumber, text);
    const id = typeof r.id === 'string' ? r.id : typeof r.id === 'number' ? String(r.id) : null;
    if (id === null || id === '') return this.reject('no id', file, lineNumber, text);
    try {
      switch (r.role) {
        case 'caller':
          return this.caller(r, id);
        case 'gateway':
          return this.gateway(r, id);
        case 'worker':
          return this.worker(r, id);
        default:
          return this.reject('unknown role', file, lineNumber, text);
      }
    } catch (err) {
      if (err instanceof StampError) return this.reject('bad stamp', file, lineNumber, text);
      throw err;
    }
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

  private kernelLine(r: Json, file: string, lineNumber: number, text: string): void {
    const host = str(r.host) ?? '?';
    const role = r.role === 'caller' || r.role === 'gateway' || r.role === 'worker' ? r.role : 'caller';
    let why: string | null;
    try {
      why = this.kernel.line(r, this.clockOf(role, host, host));
    } catch (err) {
      if (!(err instanceof StampError)) throw err;
      why = 'bad stamp';
    }
    if (why !== null) this.reject(why, file, lineNumber, text);
  }

  private reject(reason: string, file: string, line: number, text: string): void {
    this.counts.rejected[reason] = (this.counts.rejected[reason] ?? 0) + 1;
    if (this.counts.examples.length < MAX_EXAMPLES) {
      this.counts.examples.push({ file, line, reason, text: text.length > 200 ? `${text.slice(0, 200)}…` : text });
    }
  }

  private caller(r: Json, id: string): void {
    const t = this.table;
    const host = str(r.host) ?? '?';
    const clock = this.clockOf('caller', host, host);
    // Read every stamp before touching the table, so a bad stamp leaves no half record.
    const t0 = t.clocks.relative(clock, r.t0);
    const t6 = t.clocks.relative(clock, r.t6);
    const t0i = t.clocks.relative(clock, r.t0_intended);
    const slot = t.slot(id);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_CALLER) return void this.counts.duplicates.caller++;
    this.counts.records.caller++;
    t.u8.flags[slot] = flags | HAS_CALLER | (r.warmup === true ? WARMUP : 0);
    t.u16.callerClock[slot] = clock;
    t.f64.t0[slot] = t0;
    t.f64.t6[slot] = t6;
    t.f64.t0_intended[slot] = t0i;
    t.i16.callerStatus[slot] = status(r.status);
    t.u16.callerError[slot] = t.errors.id(str(r.error));
    t.u32.connections[slot] = typeof r.connections === 'number' && r.connections > 0 ? r.connections : 0;
    t.f64.bytes[slot] = typeof r.bytes === 'number' ? r.bytes : NaN;
    traceIdInto(t, slot, r.trace_id);
    const path = str(r.path);
    t.u32.request[slot] = path === null ? 0 : t.requests.id(`${str(r.method) ?? 'GET'} ${path}`);
    t.u32.label[slot] = t.labels.id(str(r.label));
    if (r.conn !== undefined) this.kernel.caller(slot, host, r.conn);
  }

  private gateway(r: Json, id: string): void {
    const t = this.table;
    const host = str(r.host) ?? '?';
    const clock = this.clockOf('gateway', host, host);
    const t1 = t.clocks.relative(clock, r.t1);
    const t2 = t.clocks.relative(clock, r.t2);
    const t4 = t.clocks.relative(clock, r.t4);
    const t5 = t.clocks.relative(clock, r.t5);
    const address = str(r.worker);
    // The copied worker stamps are on the worker's clock: one clock per worker address seen from this gateway.
    const copyClock = this.copyClockOf(host, address ?? '?');
    const w0 = t.clocks.relative(copyClock, r.t3_recv);
    const w1 = t.clocks.relative(copyClock, r.t3_start);
    const w2 = t.clocks.relative(copyClock, r.t3_end);
    const w3 = t.clocks.relative(copyClock, r.t3_send);
    const slot = t.slot(id);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_GATEWAY) return void this.counts.duplicates.gateway++;
    this.counts.records.gateway++;
    t.u16.gatewayClock[slot] = clock;
    t.f64.t1[slot] = t1;
    t.f64.t2[slot] = t2;
    t.f64.t4[slot] = t4;
    t.f64.t5[slot] = t5;
    t.u8.framework[slot] = t.frameworks.id(str(r.framework) ?? '?');
    t.u8.fn[slot] = t.fns.id(str(r.fn));
    t.i16.gatewayStatus[slot] = status(r.status);
    t.u16.gatewayError[slot] = t.errors.id(str(r.error));
    t.u16.workerAddress[slot] = t.hosts.id(address);
    t.u8.balance[slot] = t.balances.id(str(r.balance));
    t.u16.workerCount[slot] = typeof r.workers === 'number' && r.workers > 0 && r.workers < 65536 ? r.workers : 0;
    traceIdInto(t, slot, r.trace_id);
    if (r.conn !== undefined || r.rpc_conn !== undefined) this.kernel.gateway(slot, host, r);
    let next = flags | HAS_GATEWAY;
    if (w0 === w0 || w3 === w3) {
      if (flags & T3_FROM_WORKER) this.compareCopy(slot, copyClock, w0, w1, w2, w3);
      else this.storeT3(slot, copyClock, w0, w1, w2, w3);
      next |= T3_FROM_GATEWAY;
    }
    t.u8.flags[slot] = next;
  }

  private worker(r: Json, id: string): void {
    const t = this.table;
    const host = str(r.host) ?? '?';
    const clock = this.clockOf('worker', host, host);
    const w0 = t.clocks.relative(clock, r.t3_recv);
    const w1 = t.clocks.relative(clock, r.t3_start);
    const w2 = t.clocks.relative(clock, r.t3_end);
    const w3 = t.clocks.relative(clock, r.t3_send);
    const slot = t.slot(id);
    const flags = t.u8.flags[slot]!;
    if (flags & HAS_WORKER) return void this.counts.duplicates.worker++;
    this.counts.records.worker++;
    t.u16.workerHost[slot] = t.hosts.id(host);
    t.u8.workerFn[slot] = t.fns.id(str(r.fn));
    t.u16.workerError[slot] = t.errors.id(str(r.error));
    if (r.conn !== undefined) this.kernel.worker(slot, host, clock, r);
    if (flags & T3_FROM_GATEWAY) this.compareCopy(slot, clock, w0, w1, w2, w3);
    else this.storeT3(slot, clock, w0, w1, w2, w3);
    t.u8.flags[slot] = flags | HAS_WORKER | T3_FROM_WORKER;
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
const status = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 32768 ? v : -1);

/** A record's W3C trace id (32 lowercase hex digits), kept for the OTLP export. */
function traceIdInto(t: RequestTable, slot: number, traceId: unknown): void {
  if (typeof traceId === 'string' && /^[0-9a-f]{32}$/.test(traceId)) t.traceIds.set(slot, traceId);
}
