/**
 * The run over time: per cell and second, the responses, the failures and
 * the latency percentiles, and each role's load from its samples, on one
 * axis: seconds on the main caller clock since its first send. A second is
 * placed by when the request finished (t6), as a load generator's
 * per-interval line counts it. Samples of other hosts are moved onto the
 * caller's clock by the estimated offsets (offsets.ts): good to well under
 * the second a bin is wide.
 */
import type { ClockAnchor, SampleRow } from '../read/ingest.js';
import type { Join } from '../read/join.js';
import type { ClockOffset } from './offsets.js';
import type { CallerRuns } from '../read/runs.js';
import { stageAt } from './stage-columns.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import { HAS_CALLER, WARMUP, type RequestTable } from '../read/table.js';
import { sortFloat64 } from './sort.js';

export interface TimelinePoint {
  /** Start of the second, s since the origin. */
  t_s: number;
  /** Responses in the figures that finished in this second. */
  responses: number;
  /** Requests that failed (an error or a non-2xx status) and finished in this second. */
  errors: number;
  /** Latency (from the due time in open loop) of those responses, µs; null when none. */
  p50_us: number | null;
  p90_us: number | null;
  p99_us: number | null;
}

export interface CellTimeline {
  framework: string;
  endpoint: string;
  connections: number;
  caller_only: boolean;
  points: TimelinePoint[];
}

export interface UtilisationPoint {
  role: 'caller' | 'gateway' | 'worker';
  host: string;
  /** The gateway's framework, the caller's label; null when none. */
  part: string | null;
  /** End of the sampled interval, s since the origin. */
  t_s: number;
  elu: number;
  /** CPU time over the interval, % of one core. */
  cpu_percent: number;
  /** The garbage collector's longest pause of the main thread in the interval, ms; null in records that predate it. */
  gc_max_pause_ms: number | null;
}

export interface Timeline {
  /** The main caller clock (most requests) and its first send; wall_ms: that instant as epoch ms when the caller wrote a clock anchor. */
  origin: { host: string; wall_ms: number | null };
  bin_s: number;
  cells: CellTimeline[];
  utilisation: UtilisationPoint[];
  /** Hosts whose samples could not be placed (no clock offset to the caller). */
  unplaced_hosts: string[];
  /** Requests on other caller clocks, left out: their time cannot be set beside the main caller's. */
  other_clock_requests: number;
}

const US = 1e-3;

/** epoch ms − monotonic ms per host, from its clock anchors (their median: one caller run's NTP slew does not move it). */
export function wallShifts(anchors: readonly ClockAnchor[]): Map<string, number> {
  const byHost = new Map<string, number[]>();
  for (const a of anchors) {
    let list = byHost.get(a.host);
    if (!list) byHost.set(a.host, (list = []));
    list.push(a.wall_ms - a.t / 1e6);
  }
  return new Map([...byHost].map(([host, list]) => [host, percentileOfSorted(list.sort((a, b) => a - b), 50)]));
}

export function timelineOf(
  t: RequestTable,
  join: Join,
  runs: CallerRuns,
  samples: readonly SampleRow[],
  offsets: readonly ClockOffset[],
  anchors: readonly ClockAnchor[],
): Timeline | null {
  let clock = -1;
  let origin = Infinity;
  let most = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < t.size; i++) {
    if (!(t.u8.flags[i]! & HAS_CALLER) || runs.runOf[i]! < 0) continue;
    const c = t.u16.callerClock[i]!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  for (const [c, n] of counts) if (n > most) [clock, most] = [c, n];
  if (clock < 0) return null;

  const cellIndex = new Map<string, number>();
  const cells: CellTimeline[] = [];
  const runCell = runs.runs.map((r) => {
    const key = `${r.framework}\u0000${r.endpoint}\u0000${r.connections}`;
    let k = cellIndex.get(key);
    if (k === undefined) {
      cellIndex.set(key, (k = cells.length));
      cells.push({ framework: r.framework, endpoint: r.endpoint, connections: r.connections, caller_only: r.callerOnly, points: [] });
    }
    return k;
  });
  for (let i = 0; i < t.size; i++) {
    if (runs.runOf[i]! >= 0 && t.u16.callerClock[i] === clock && !(t.u8.flags[i]! & WARMUP)) origin = Math.min(origin, t.f64.t0[i]!);
  }
  if (origin === Infinity) return null;

  // Per cell, per second: a far-off (but self-consistent) stamp makes a far second, never another cell's.
  const bins = cells.map(() => new Map<number, { responses: number; errors: number; latency: number[] }>());
  let other = 0;
  for (let i = 0; i < t.size; i++) {
    const run = runs.runOf[i]!;
    if (run < 0 || t.u8.flags[i]! & WARMUP) continue;
    if (t.u16.callerClock[i] !== clock) {
      other++;
      continue;
    }
    const t6 = t.f64.t6[i]!;
    if (t6 !== t6) continue;
    const cellBins = bins[runCell[run]!]!;
    const second = Math.floor((t6 - origin) / 1e9);
    let bin = cellBins.get(second);
    if (!bin) cellBins.set(second, (bin = { responses: 0, errors: 0, latency: [] }));
    if (join.measured[i]) {
      bin.responses++;
      bin.latency.push(stageAt(t, 'latency', i));
    } else if (t.u16.callerError[i] !== 0 || !(t.i16.callerStatus[i]! >= 200 && t.i16.callerStatus[i]! <= 299)) {
      bin.errors++;
    }
  }
  bins.forEach((cellBins, cell) => {
    for (const second of [...cellBins.keys()].sort((a, b) => a - b)) {
      const bin = cellBins.get(second)!;
      const sorted = sortFloat64(Float64Array.from(bin.latency));
      const at = (p: number) => (sorted.length ? percentileOfSorted(sorted, p) * US : null);
      cells[cell]!.points.push({ t_s: second, responses: bin.responses, errors: bin.errors, p50_us: at(50), p90_us: at(90), p99_us: at(99) });
    }
  });

  const callerHost = t.clockHost[clock] ?? '?';
  const originAbs = t.clocks.absolute(clock, origin);
  const shifts = hostShifts(callerHost, offsets);
  const unplaced = new Set<string>();
  const utilisation: UtilisationPoint[] = [];
  for (const s of samples) {
    const shift = shifts.get(s.host);
    if (shift === undefined) {
      unplaced.add(s.host);
      continue;
    }
    const t_s = (s.t - shift - originAbs) / 1e9;
    if (t_s < 0) continue;
    utilisation.push({
      role: s.role,
      host: s.host,
      part: s.part,
      t_s: Math.round(t_s * 1000) / 1000,
      elu: s.elu,
      cpu_percent: Math.round(((s.cpu_user_us + s.cpu_system_us) / (s.interval_ms * 1000)) * 1000) / 10,
      gc_max_pause_ms: s.gc_max_pause_us === null ? null : Math.round(s.gc_max_pause_us / 10) / 100,
    });
  }
  const wall = wallShifts(anchors).get(callerHost);
  return {
    origin: { host: callerHost, wall_ms: wall === undefined ? null : originAbs / 1e6 + wall },
    bin_s: 1,
    cells: cells.filter((c) => c.points.length > 0),
    utilisation,
    unplaced_hosts: [...unplaced],
    other_clock_requests: other,
  };
}

/** Per host, its clock minus the caller's (ns): 0 on the caller's own host, else the median offset estimate, chained worker → gateway → caller. */
function hostShifts(callerHost: string, offsets: readonly ClockOffset[]): Map<string, number> {
  const shifts = new Map<string, number>([[callerHost, 0]]);
  for (const o of offsets) {
    if (o.clocks === 'gateway − caller' && o.reference_host === callerHost && !shifts.has(o.host)) shifts.set(o.host, o.same_host ? 0 : o.median_ns);
  }
  for (const o of offsets) {
    const gateway = shifts.get(o.reference_host);
    if (o.clocks === 'worker − gateway' && gateway !== undefined && !shifts.has(o.host)) shifts.set(o.host, gateway + (o.same_host ? 0 : o.median_ns));
  }
  return shifts;
}
