/**
 * The instance experiments' figures (concurrency, backoff, interference), from
 * the records of one run directory: caller records joined to worker records
 * by id. Pure over parsed records, so it is tested without a run.
 */
import { percentileOfSorted } from '../../stats/percentiles.js';

export type Rec = Record<string, unknown>;

const ns = (r: Rec, k: string) => (typeof r[k] === 'string' ? Number(BigInt(r[k] as string)) : NaN);
const median = (xs: number[]) => (xs.length === 0 ? NaN : percentileOfSorted([...xs].sort((a, b) => a - b), 50));
const p99 = (xs: number[]) => (xs.length === 0 ? NaN : percentileOfSorted([...xs].sort((a, b) => a - b), 99));
const latencyUs = (c: Rec) => (ns(c, 't6') - ns(c, 't0')) / 1e3;

export interface ColdPhases {
  calls: number;
  /** Medians in µs: call read → spawn asked, spawn → module loaded, loaded → init done, init → function starts, the function. */
  before_spawn_us: number;
  boot_and_load_us: number;
  init_us: number;
  hand_over_us: number;
  function_us: number;
}

export function coldPhases(worker: Rec[]): ColdPhases | null {
  // A failed call has no start stamp of its own (its t3_start is the hand-over): only answered calls split.
  const cold = worker.filter((w) => w.cold === true && w.error === null && typeof w.cold_spawn === 'string');
  if (cold.length === 0) return null;
  const phase = (a: string, b: string) => median(cold.map((w) => (ns(w, b) - ns(w, a)) / 1e3));
  return {
    calls: cold.length,
    before_spawn_us: phase('t3_recv', 'cold_spawn'),
    boot_and_load_us: phase('cold_spawn', 'cold_loaded'),
    init_us: phase('cold_loaded', 'cold_init'),
    hand_over_us: phase('cold_init', 't3_start'),
    function_us: phase('t3_start', 't3_end'),
  };
}

export interface ConcurrencyStep {
  connections: number;
  requests: number;
  requests_per_s: number;
  p50_us: number;
  p99_us: number;
  instances: number;
  cold: number;
}

export function concurrencySteps(caller: Rec[], workerById: Map<string, Rec>): ConcurrencyStep[] {
  const steps = new Map<number, Rec[]>();
  for (const c of caller) if (c.warmup === false && c.status === 200) steps.set(c.connections as number, [...(steps.get(c.connections as number) ?? []), c]);
  return [...steps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([connections, rs]) => {
      const lat = rs.map(latencyUs);
      const t0 = Math.min(...rs.map((r) => ns(r, 't0')));
      const t6 = Math.max(...rs.map((r) => ns(r, 't6')));
      const ws = rs.map((r) => workerById.get(r.id as string)).filter((w): w is Rec => w !== undefined);
      return {
        connections,
        requests: rs.length,
        requests_per_s: rs.length / ((t6 - t0) / 1e9),
        p50_us: median(lat),
        p99_us: p99(lat),
        instances: new Set(ws.map((w) => w.instance)).size,
        cold: ws.filter((w) => w.cold === true).length,
      };
    });
}

export interface BackoffGap {
  gap: string;
  gap_ms: number;
  calls: number;
  cold: number;
  cold_fraction: number;
  warm_p50_us: number;
  cold_p50_us: number;
}

export function backoffGaps(caller: Rec[], workerById: Map<string, Rec>, parse: (gap: string) => number): BackoffGap[] {
  const byGap = new Map<string, Rec[]>();
  for (const c of caller) {
    const m = /^gap (.+)$/.exec(String(c.label ?? ''));
    if (m) byGap.set(m[1]!, [...(byGap.get(m[1]!) ?? []), c]);
  }
  return [...byGap.entries()].map(([gap, rs]) => {
    const cold = rs.filter((r) => workerById.get(r.id as string)?.cold === true);
    const warm = rs.filter((r) => workerById.get(r.id as string)?.cold === false);
    return {
      gap,
      gap_ms: parse(gap),
      calls: rs.length,
      cold: cold.length,
      cold_fraction: cold.length / rs.length,
      warm_p50_us: median(warm.map(latencyUs)),
      cold_p50_us: median(cold.map(latencyUs)),
    };
  }).sort((a, b) => a.gap_ms - b.gap_ms);
}

/** The expiry threshold: between the longest gap that stayed mostly warm and the shortest above it that was mostly cold. */
export function backoffThreshold(gaps: BackoffGap[]): { warm_below: string | null; cold_from: string | null } {
  const firstCold = gaps.findIndex((g, i) => gaps.slice(i).every((x) => x.cold_fraction >= 0.5));
  if (firstCold === -1) return { warm_below: gaps.at(-1)?.gap ?? null, cold_from: null };
  return { warm_below: firstCold > 0 ? gaps[firstCold - 1]!.gap : null, cold_from: gaps[firstCold]!.gap };
}

export interface InterferencePhase {
  phase: 'before' | 'during' | 'after';
  requests: number;
  errors: number;
  p50_us: number;
  p99_us: number;
}

export interface FaultOutcome {
  kind: string;
  status: number;
  error: string | null;
  latency_us: number;
}

export function interference(caller: Rec[], gatewayById: Map<string, Rec>): { phases: InterferencePhase[]; faults: FaultOutcome[] } {
  const faults = caller.filter((c) => String(c.label ?? '').startsWith('fault '));
  const from = Math.min(...faults.map((f) => ns(f, 't0')));
  const to = Math.max(...faults.map((f) => ns(f, 't6')));
  const neighbours = caller.filter((c) => c.label === 'neighbour');
  const phases = (['before', 'during', 'after'] as const).map((phase) => {
    const rs = neighbours.filter((c) => {
      const t = ns(c, 't0');
      return phase === 'before' ? t < from : phase === 'during' ? t >= from && t <= to : t > to;
    });
    const ok = rs.filter((r) => r.status === 200);
    return { phase, requests: rs.length, errors: rs.length - ok.length, p50_us: median(ok.map(latencyUs)), p99_us: p99(ok.map(latencyUs)) };
  });
  return {
    phases,
    faults: faults.map((f) => ({
      kind: String(f.label).slice('fault '.length),
      status: f.status as number,
      error: (gatewayById.get(f.id as string)?.error as string | null | undefined) ?? null,
      latency_us: latencyUs(f),
    })),
  };
}

/** The neighbours' latency over time in buckets (seconds from the first), with the faults' window: the interference figure. */
export function neighbourTimeline(caller: Rec[], bucketS = 0.25): { points: { s: number; p50_us: number; max_us: number }[]; faults: { from_s: number; to_s: number } | null } {
  const neighbours = caller.filter((c) => c.label === 'neighbour' && c.status === 200);
  if (neighbours.length === 0) return { points: [], faults: null };
  const t0 = Math.min(...neighbours.map((c) => ns(c, 't0')));
  const buckets = new Map<number, number[]>();
  for (const c of neighbours) {
    const b = Math.floor((ns(c, 't0') - t0) / 1e9 / bucketS);
    buckets.set(b, [...(buckets.get(b) ?? []), latencyUs(c)]);
  }
  const points = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, xs]) => ({ s: b * bucketS, p50_us: median(xs), max_us: Math.max(...xs) }));
  const faults = caller.filter((c) => String(c.label ?? '').startsWith('fault '));
  const window = faults.length === 0 ? null : { from_s: (Math.min(...faults.map((f) => ns(f, 't0'))) - t0) / 1e9, to_s: (Math.max(...faults.map((f) => ns(f, 't6'))) - t0) / 1e9 };
  return { points, faults: window };
}

/** Instances alive over time, from the worker's saturation samples (seconds from the first sample). */
export function instancesOverTime(samples: Rec[]): { s: number; instances: number; busy: number }[] {
  const ws = samples.filter((s) => s.role === 'worker' && typeof s.instances === 'number');
  const t0 = ws.length > 0 ? ns(ws[0]!, 't') : 0;
  return ws.map((s) => ({ s: (ns(s, 't') - t0) / 1e9, instances: s.instances as number, busy: s.instances_busy as number }));
}
