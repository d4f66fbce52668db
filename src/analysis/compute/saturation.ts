/**
 * How busy each process was while a cell ran, from the roles' own samples
 * (src/trace/sampler.ts), and what that means for the stages.
 *
 * A cell's time on each host is read off its own requests' stamps on that
 * host's clock (caller: t0…t6, gateway: t1…t5, worker: t3_recv…t3_send), so
 * no clock offset is needed. A cell that ran in several rounds has several
 * such windows: its requests are split wherever no request of it was in
 * flight for SEGMENT_GAP_NS. A sample counts for a cell with the part of its
 * interval that lies in the cell's windows on that host (for a gateway: that
 * framework's gateway).
 */
import type { Role, SampleRow } from '../read/ingest.js';
import { HAS_WORKER, type RequestTable } from '../read/table.js';
import { argsortStable } from './sort.js';

export const ROLES: readonly Role[] = ['caller', 'gateway', 'worker'];
/** A gap longer than this with nothing in flight starts a new window (rounds are many seconds apart). */
export const SEGMENT_GAP_NS = 3e9;
/** A loop busy this share of the time or more is saturated: work waits for it. */
export const SATURATED_ELU = 0.9;
/** Event-loop delay p99 beyond which a loop that was not busy must have waited for a CPU. */
export const STARVED_DELAY_US = 10_000;
/** A collector pause this long, or this share of the time in the collector, shows in the stages' tails. */
export const LONG_GC_PAUSE_US = 10_000;
export const BUSY_GC_PERCENT = 5;

/** Whether a role's collector paused it long or often enough to be a finding. */
export function collectorShows(l: RoleLoad): boolean {
  return (l.gc_max_pause_us ?? 0) >= LONG_GC_PAUSE_US || (l.gc_percent ?? 0) >= BUSY_GC_PERCENT;
}

export interface RoleLoad {
  /** Processes sampled (by pid) and samples taken in the cell's windows, and the time they cover. */
  processes: number;
  samples: number;
  seconds: number;
  /** Event-loop utilisation, time-weighted over the samples (0..1). */
  elu: number;
  /** CPU of the process(es), % of one core: user + system, and each. */
  cpu_percent: number;
  cpu_user_percent: number;
  cpu_system_percent: number;
  /** Event-loop delay: median of the samples' p50, worst p99, worst max; µs. */
  delay_p50_us: number | null;
  delay_p99_us: number | null;
  delay_max_us: number | null;
  rss_max_bytes: number;
  /**
   * The garbage collector's pauses of the main thread: their share of the
   * time, %, and the longest, µs (from the samples mostly inside the cell,
   * as for delays). Null when the records predate them.
   */
  gc_percent: number | null;
  gc_max_pause_us: number | null;
  /** The role's gauges (inflight, connections, pool_running, pool_queued, host_load1): mean and max of the readings taken while the cell ran. */
  gauges: Record<string, { mean: number; max: number }>;
}

export type Load = Partial<Record<Role, RoleLoad>>;

/** Windows of one cell per sampled process group: "role host part" → [start, end] pairs on that host's clock. */
type Windows = Map<string, number[]>;

const keyOf = (role: Role, host: string, part: string | null) => `${role}\u0000${host}\u0000${role === 'gateway' ? (part ?? '') : ''}`;

/** The windows in which these requests (one cell) ran, per role and host. */
export function windowsOf(t: RequestTable, slots: ArrayLike<number>): Windows {
  const order = byClockThenSend(t, slots);
  const keys = new WindowKeys(t);
  const windows: Windows = new Map();
  // Windows open since the last gap, by key number, in the order they opened.
  const openStart = new Map<number, number>();
  const openEnd = new Map<number, number>();
  const add = (key: number, start: number, end: number) => {
    if (!(start === start && end === end)) return;
    const s = openStart.get(key);
    if (s === undefined) {
      openStart.set(key, start);
      openEnd.set(key, end);
    } else {
      openStart.set(key, Math.min(s, start));
      openEnd.set(key, Math.max(openEnd.get(key)!, end));
    }
  };
  const close = () => {
    for (const [key, start] of openStart) {
      const name = keys.name(key);
      let list = windows.get(name);
      if (!list) windows.set(name, (list = []));
      list.push(start, openEnd.get(key)!);
    }
    openStart.clear();
    openEnd.clear();
  };
  const f = t.f64;
  const base = keys.bases;
  let clock = -1;
  let reach = -Infinity;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const c = t.u16.callerClock[i]!;
    if (c !== clock || f.t0[i]! > reach + SEGMENT_GAP_NS) {
      close();
      reach = -Infinity;
    }
    clock = c;
    reach = Math.max(reach, f.t6[i]!);
    add(keys.caller(c), base(c) + f.t0[i]!, base(c) + f.t6[i]!);
    const g = t.u16.gatewayClock[i]!;
    add(keys.gateway(g, t.u8.framework[i]!), base(g) + f.t1[i]!, base(g) + f.t5[i]!);
    if (t.u8.flags[i]! & HAS_WORKER) {
      const w = t.u16.t3Clock[i]!;
      // The worker's own host name, whichever copy of its stamps the table kept: both are raw readings of its clock.
      add(keys.worker(t.u16.workerHost[i]!), base(w) + f.t3_recv[i]!, base(w) + f.t3_send[i]!);
    }
  }
  close();
  return windows;
}

/** The slots ordered by caller clock, then send time (t0), ties in their given order. */
function byClockThenSend(t: RequestTable, slots: ArrayLike<number>): Uint32Array {
  const byClock = new Map<number, number>();
  for (let k = 0; k < slots.length; k++) {
    const c = t.u16.callerClock[slots[k]!]!;
    byClock.set(c, (byClock.get(c) ?? 0) + 1);
  }
  const out = new Uint32Array(slots.length);
  let at = 0;
  for (const clock of [...byClock.keys()].sort((a, b) => a - b)) {
    const part = new Uint32Array(byClock.get(clock)!);
    let n = 0;
    for (let k = 0; k < slots.length; k++) if (t.u16.callerClock[slots[k]!] === clock) part[n++] = slots[k]!;
    const sends = new Float64Array(n);
    for (let k = 0; k < n; k++) sends[k] = t.f64.t0[part[k]!]!;
    out.set(argsortStable(sends, part), at);
    at += n;
  }
  return out;
}

/**
 * The window keys ("role host part") as numbers: one string per distinct
 * caller clock, gateway clock and framework, worker host. And each clock's
 * base as a double, which ClockRegistry.absolute would convert per stamp.
 */
class WindowKeys {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly memo = new Map<number, number>();
  private readonly baseOf = new Map<number, number>();

  constructor(private readonly t: RequestTable) {}

  readonly bases = (clock: number): number => {
    let b = this.baseOf.get(clock);
    if (b === undefined) this.baseOf.set(clock, (b = this.t.clocks.absolute(clock, 0)));
    return b;
  };

  caller(clock: number): number {
    return this.key(clock, () => keyOf('caller', this.t.clockHost[clock] ?? '?', null));
  }

  gateway(clock: number, framework: number): number {
    return this.key(0x10000000 + clock * 256 + framework, () => keyOf('gateway', this.t.clockHost[clock] ?? '?', this.t.frameworks.value(framework) ?? null));
  }

  worker(host: number): number {
    return this.key(0x20000000 + host, () => keyOf('worker', this.t.hosts.value(host) ?? '?', null));
  }

  name(key: number): string {
    return this.names[key]!;
  }

  private key(code: number, name: () => string): number {
    let key = this.memo.get(code);
    if (key === undefined) {
      const text = name();
      key = this.index.get(text);
      if (key === undefined) {
        key = this.names.length;
        this.names.push(text);
        this.index.set(text, key);
      }
      this.memo.set(code, key);
    }
    return key;
  }
}

/** Each role's load in these windows. */
export function loadIn(windows: Windows, samples: readonly SampleRow[]): Load {
  const picked: Record<Role, Weighted[]> = { caller: [], gateway: [], worker: [] };
  for (const s of samples) {
    const w = windows.get(keyOf(s.role, s.host, s.part));
    if (!w) continue;
    const end = s.t;
    const start = end - s.interval_ms * 1e6;
    let inside = 0;
    let readInside = false;
    for (let k = 0; k < w.length; k += 2) {
      inside += Math.max(0, Math.min(end, w[k + 1]!) - Math.max(start, w[k]!));
      readInside ||= end >= w[k]! && end <= w[k + 1]!;
    }
    if (inside > 0) picked[s.role].push({ s, share: Math.min(1, inside / (end - start)), readInside });
  }
  const load: Load = {};
  for (const role of ROLES) if (picked[role].length > 0) load[role] = aggregate(picked[role]);
  return load;
}

/** A sample and the share of its interval that lies in the cell's windows. */
interface Weighted {
  s: SampleRow;
  share: number;
  /** The gauges were read (at the interval's end) while the cell ran. */
  readInside: boolean;
}

/**
 * A sample is an average over its interval, so each one counts with the part
 * of its interval that lies in the cell: a cell shorter than an interval still
 * gets a reading. Delays are worst cases and cannot be split, so they come
 * from the samples mostly inside the cell; gauges are read at an interval's
 * end, so they come from the samples that ended inside it.
 */
function aggregate(picked: Weighted[]): RoleLoad {
  let ms = 0;
  let busy = 0;
  let user = 0;
  let system = 0;
  let rss = 0;
  let p99: number | null = null;
  let max: number | null = null;
  let gcUs = 0;
  let gcMs = 0;
  let gcMax: number | null = null;
  const p50s: number[] = [];
  const gauges: Record<string, { sum: number; max: number }> = {};
  let gaugeMs = 0;
  for (const { s, share, readInside } of picked) {
    const inMs = s.interval_ms * share;
    ms += inMs;
    busy += s.elu * inMs;
    user += s.cpu_user_us * share;
    system += s.cpu_system_us * share;
    rss = Math.max(rss, s.rss_bytes);
    if (s.gc_pause_us !== null) {
      gcUs += s.gc_pause_us * share;
      gcMs += inMs;
    }
    if (share >= 0.5) {
      if (s.gc_max_pause_us !== null) gcMax = Math.max(gcMax ?? 0, s.gc_max_pause_us);
      if (s.delay_p50_us !== null) p50s.push(s.delay_p50_us);
      if (s.delay_p99_us !== null) p99 = Math.max(p99 ?? 0, s.delay_p99_us);
      if (s.delay_max_us !== null) max = Math.max(max ?? 0, s.delay_max_us);
    }
    if (readInside) {
      gaugeMs += inMs;
      for (const [k, v] of Object.entries(s.gauges)) {
        const g = (gauges[k] ??= { sum: 0, max: -Infinity });
        g.sum += v * inMs;
        g.max = Math.max(g.max, v);
      }
    }
  }
  p50s.sort((a, b) => a - b);
  const pct = (us: number) => round1((us / 1e3 / ms) * 100);
  return {
    processes: new Set(picked.map(({ s }) => `${s.host} ${s.pid}`)).size,
    samples: picked.length,
    seconds: round3(ms / 1e3),
    elu: round3(busy / ms),
    cpu_percent: pct(user + system),
    cpu_user_percent: pct(user),
    cpu_system_percent: pct(system),
    delay_p50_us: p50s.length ? p50s[Math.floor((p50s.length - 1) / 2)]! : null,
    delay_p99_us: p99,
    delay_max_us: max,
    rss_max_bytes: rss,
    gc_percent: gcMs > 0 ? round1((gcUs / 1e3 / gcMs) * 100) : null,
    gc_max_pause_us: gcMax,
    gauges: Object.fromEntries(Object.entries(gauges).map(([k, g]) => [k, { mean: round3(g.sum / gaugeMs), max: g.max }])),
  };
}

/** What a cell's load says, as a short tag for tables; FINDING_MEANING says what each kind does to the stages. */
export interface Finding {
  kind: 'saturated' | 'pool_queue' | 'late_loop' | 'gc' | 'host_busy';
  role: Role | 'host';
  tag: string;
}

export const FINDING_MEANING: Record<Finding['kind'], string> = {
  saturated:
    'a loop busy ≥ 90% of the time. Gateway: requests wait to be read (caller link) and replies to be read and answered (RPC link, respond). ' +
    'Worker: calls wait to be read (RPC link) and dispatched (worker queue). Caller: responses wait to be read (caller link).',
  pool_queue: 'calls waited for a pool thread (mean queue length shown): that wait is worker queue; function does not hold it.',
  late_loop: 'a loop that ran ≥ 10 ms late (event-loop delay p99) without being busy: its process waited for a CPU, which stretches every stage it stamps.',
  gc:
    "a garbage-collector pause of ≥ 10 ms, or ≥ 5% of the time in the collector: a pause stops its process's main thread, and lands in whichever stage that thread was timing " +
    "(for a worker: RPC link, worker queue and worker out, and function only for inline calls); the tails (p99, max) of those stages may hold it.",
  host_busy: "the host's 1-minute load average above its cores: processes queued for a CPU; on one machine every stage may hold some of that wait.",
};

/** The roles whose loop was saturated, what else the load shows, and what that means for the stages. */
export function readLoad(load: Load): { saturated: Role[]; findings: Finding[]; notes: string[] } {
  const saturated = ROLES.filter((r) => (load[r]?.elu ?? 0) >= SATURATED_ELU);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  for (const role of saturated) {
    findings.push({ kind: 'saturated', role, tag: `${role} saturated` });
    notes.push(`the ${role}'s loop was busy ${pct(load[role]!.elu)} of the time: ${FINDING_MEANING.saturated}`);
  }
  const queued = load.worker?.gauges.pool_queued;
  if (queued && queued.mean >= 1) {
    findings.push({ kind: 'pool_queue', role: 'worker', tag: `pool queue ${queued.mean.toFixed(0)}` });
    notes.push(`on average ${queued.mean.toFixed(1)} calls (at most ${queued.max}) waited for a pool thread: worker queue holds that wait, function does not`);
  }
  const late = ROLES.filter((r) => {
    const l = load[r];
    return l !== undefined && l.elu < SATURATED_ELU && (l.delay_p99_us ?? 0) >= STARVED_DELAY_US;
  });
  if (late.length > 0) {
    findings.push({ kind: 'late_loop', role: late[0]!, tag: `late loop: ${late.join(', ')}` });
    for (const r of late) {
      notes.push(`the ${r}'s event loop ran up to ${Math.round(load[r]!.delay_p99_us! / 1000)} ms late (p99) while busy only ${pct(load[r]!.elu)} of the time: it waited for a CPU`);
    }
  }
  const collecting = ROLES.filter((r) => load[r] !== undefined && collectorShows(load[r]!));
  if (collecting.length > 0) {
    findings.push({ kind: 'gc', role: collecting[0]!, tag: `collector: ${collecting.join(', ')}` });
    for (const r of collecting) {
      const l = load[r]!;
      const longest = l.gc_max_pause_us === null ? '' : `, up to ${(l.gc_max_pause_us / 1000).toFixed(1)} ms at once`;
      notes.push(
        `the ${r}'s garbage collector paused it ${l.gc_percent}% of the time${longest}: ` +
          "that pause is in whichever stage its main thread was timing, most visibly in the stages' tails",
      );
    }
  }
  const host = ROLES.map((r) => load[r]?.gauges).find((g) => g?.host_load1 && g.host_cores);
  if (host && host.host_load1!.mean > host.host_cores!.max) {
    findings.push({ kind: 'host_busy', role: 'host', tag: `host load ${host.host_load1!.mean.toFixed(1)} on ${host.host_cores!.max} cores` });
    notes.push(`the host's load average was ${host.host_load1!.mean.toFixed(1)} on ${host.host_cores!.max} cores: processes queued for a CPU`);
  }
  return { saturated, findings, notes };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
