/**
 * The instance experiments' figures (concurrency, backoff, interference),
 * from the request table every other figure comes from: caller requests with
 * what their worker records said (instance, cold or warm, the cold start's
 * stamps) and their gateway's error, and the workers' saturation samples.
 */
import { parseDuration } from '../../flags.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { SampleRow } from '../read/ingest.js';
import { COLD, HAS_CALLER, HAS_GATEWAY, HAS_WORKER, WARMUP, type RequestTable } from '../read/table.js';

export const INSTANCE_EXPERIMENTS = ['concurrency', 'backoff', 'interference'] as const;
export type InstanceExperiment = (typeof INSTANCE_EXPERIMENTS)[number];

/** One caller request of an instance experiment, with what its worker and gateway records said. */
export interface Call {
  label: string | null;
  connections: number;
  /** The caller's status: 0 for a request that failed without an answer. */
  status: number;
  warmup: boolean;
  /** ns on the caller's clock. */
  t0: number;
  t6: number;
  /** The instance that ran it; null without a worker record or outside instances (inline). */
  instance: string | null;
  /** Whether the call started its instance; null when not known. */
  cold: boolean | null;
  gatewayError: string | null;
}

const median = (xs: number[]) => (xs.length === 0 ? NaN : percentileOfSorted([...xs].sort((a, b) => a - b), 50));
const p99 = (xs: number[]) => (xs.length === 0 ? NaN : percentileOfSorted([...xs].sort((a, b) => a - b), 99));
const latencyUs = (c: Call) => (c.t6 - c.t0) / 1e3;

/** Every caller request of the table, in the table's order. */
export function callsOf(t: RequestTable): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i < t.size; i++) {
    const flags = t.u8.flags[i]!;
    if (!(flags & HAS_CALLER)) continue;
    const instance = flags & HAS_WORKER ? t.instances.value(t.u32.instance[i]!) : null;
    const status = t.i16.callerStatus[i]!;
    calls.push({
      label: t.labels.value(t.u32.label[i]!),
      connections: t.u32.connections[i]!,
      status: status < 0 ? 0 : status,
      warmup: (flags & WARMUP) !== 0,
      t0: t.f64.t0[i]!,
      t6: t.f64.t6[i]!,
      instance,
      cold: instance === null ? null : (flags & COLD) !== 0,
      gatewayError: flags & HAS_GATEWAY ? t.errors.value(t.u16.gatewayError[i]!) : null,
    });
  }
  return calls;
}

/**
 * Which instance experiment the records hold: run.json's, else what the
 * callers' labels show (a backoff's "gap …", an interference's "neighbour");
 * null for anything else. Reads the distinct labels only, not the requests.
 */
export function instanceExperimentOf(run: unknown, t: RequestTable): InstanceExperiment | null {
  const named = (run as { config?: { experiment?: unknown } } | null)?.config?.experiment;
  if ((INSTANCE_EXPERIMENTS as readonly unknown[]).includes(named)) return named as InstanceExperiment;
  if (named !== undefined) return null;
  const labels = Array.from({ length: t.labels.size }, (_, k) => t.labels.value(k));
  if (labels.some((l) => l?.startsWith('gap ') === true)) return 'backoff';
  if (labels.includes('neighbour')) return 'interference';
  return null;
}

export interface ColdPhases {
  calls: number;
  /** Medians in µs: call read → spawn asked, spawn → module loaded, loaded → init done, init → function starts, the function. */
  before_spawn_us: number;
  boot_and_load_us: number;
  init_us: number;
  hand_over_us: number;
  function_us: number;
}

export function coldPhases(t: RequestTable): ColdPhases | null {
  const phases: number[][] = [[], [], [], [], []];
  for (const [slot, [spawn, loaded, init]] of t.coldStamps) {
    // A failed call has no start stamp of its own (its t3_start is the hand-over): only answered calls split.
    if (t.u16.workerError[slot] !== 0) continue;
    const start = t.f64.t3_start[slot]! - t.f64.t3_recv[slot]!;
    const end = t.f64.t3_end[slot]! - t.f64.t3_recv[slot]!;
    [spawn, loaded - spawn, init - loaded, start - init, end - start].forEach((ns, k) => phases[k]!.push(ns / 1e3));
  }
  if (phases[0]!.length === 0) return null;
  const [before, boot, init, handOver, fn] = phases.map(median) as [number, number, number, number, number];
  return { calls: phases[0]!.length, before_spawn_us: before, boot_and_load_us: boot, init_us: init, hand_over_us: handOver, function_us: fn };
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

/** Per caller count, its measured answered requests: throughput, latency, and the instances that served them. */
export function concurrencySteps(calls: readonly Call[]): ConcurrencyStep[] {
  const steps = new Map<number, Call[]>();
  for (const c of calls) if (!c.warmup && c.status === 200) steps.set(c.connections, [...(steps.get(c.connections) ?? []), c]);
  return [...steps.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([connections, rs]) => {
      const lat = rs.map(latencyUs);
      const t0 = Math.min(...rs.map((r) => r.t0));
      const t6 = Math.max(...rs.map((r) => r.t6));
      return {
        connections,
        requests: rs.length,
        requests_per_s: rs.length / ((t6 - t0) / 1e9),
        p50_us: median(lat),
        p99_us: p99(lat),
        instances: new Set(rs.filter((r) => r.instance !== null).map((r) => r.instance)).size,
        cold: rs.filter((r) => r.cold === true).length,
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

/** A call's idle gap from its label "gap G" (in ms), or null: no gap, or one that is not a duration (a label is caller input). */
function gapOf(c: Call): { gap: string; ms: number } | null {
  const m = /^gap (.+)$/.exec(c.label ?? '');
  if (!m) return null;
  try {
    return { gap: m[1]!, ms: parseDuration(m[1]!, 'gap') };
  } catch {
    return null;
  }
}

/** The calls made after an idle gap (labelled "gap G"), by gap: how many were cold, and how long each kind took. */
export function backoffGaps(calls: readonly Call[]): BackoffGap[] {
  const byGap = new Map<string, { ms: number; calls: Call[] }>();
  for (const c of calls) {
    const g = gapOf(c);
    if (g === null) continue;
    const at = byGap.get(g.gap);
    if (at) at.calls.push(c);
    else byGap.set(g.gap, { ms: g.ms, calls: [c] });
  }
  return [...byGap.entries()]
    .map(([gap, { ms, calls: rs }]) => {
      const cold = rs.filter((r) => r.cold === true);
      const warm = rs.filter((r) => r.cold === false);
      return {
        gap,
        gap_ms: ms,
        calls: rs.length,
        cold: cold.length,
        cold_fraction: cold.length / rs.length,
        warm_p50_us: median(warm.map(latencyUs)),
        cold_p50_us: median(cold.map(latencyUs)),
      };
    })
    .sort((a, b) => a.gap_ms - b.gap_ms);
}

/** Each backoff call as a point: its gap, its latency, cold or warm. */
export function backoffPoints(calls: readonly Call[]): { gap_s: number; latency_us: number; start: 'cold' | 'warm' }[] {
  return calls.flatMap((c) => {
    const g = gapOf(c);
    return g === null ? [] : [{ gap_s: g.ms / 1000, latency_us: latencyUs(c), start: c.cold === true ? ('cold' as const) : ('warm' as const) }];
  });
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

const isFault = (c: Call) => c.label?.startsWith('fault ') === true;

/** The neighbours' calls before, during and after the faults ran, and how each fault ended. */
export function interference(calls: readonly Call[]): { phases: InterferencePhase[]; faults: FaultOutcome[] } {
  const faults = calls.filter(isFault);
  const from = Math.min(...faults.map((f) => f.t0));
  const to = Math.max(...faults.map((f) => f.t6));
  const neighbours = calls.filter((c) => c.label === 'neighbour');
  const phases = (['before', 'during', 'after'] as const).map((phase) => {
    const rs = neighbours.filter((c) => (phase === 'before' ? c.t0 < from : phase === 'during' ? c.t0 >= from && c.t0 <= to : c.t0 > to));
    const ok = rs.filter((r) => r.status === 200);
    return { phase, requests: rs.length, errors: rs.length - ok.length, p50_us: median(ok.map(latencyUs)), p99_us: p99(ok.map(latencyUs)) };
  });
  return {
    phases,
    faults: faults.map((f) => ({ kind: f.label!.slice('fault '.length), status: f.status, error: f.gatewayError, latency_us: latencyUs(f) })),
  };
}

/** The neighbours' latency over time in buckets (seconds from the first), with the faults' window: the interference figure. */
export function neighbourTimeline(
  calls: readonly Call[],
  bucketS = 0.25,
): { points: { s: number; p50_us: number; max_us: number }[]; faults: { from_s: number; to_s: number } | null } {
  const neighbours = calls.filter((c) => c.label === 'neighbour' && c.status === 200);
  if (neighbours.length === 0) return { points: [], faults: null };
  const t0 = Math.min(...neighbours.map((c) => c.t0));
  const buckets = new Map<number, number[]>();
  for (const c of neighbours) {
    const b = Math.floor((c.t0 - t0) / 1e9 / bucketS);
    buckets.set(b, [...(buckets.get(b) ?? []), latencyUs(c)]);
  }
  const points = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, xs]) => ({ s: b * bucketS, p50_us: median(xs), max_us: Math.max(...xs) }));
  const faults = calls.filter(isFault);
  const window =
    faults.length === 0 ? null : { from_s: (Math.min(...faults.map((f) => f.t0)) - t0) / 1e9, to_s: (Math.max(...faults.map((f) => f.t6)) - t0) / 1e9 };
  return { points, faults: window };
}

/** Instances alive and busy over time, from the workers' saturation samples (seconds from the first sample). */
export function instancesOverTime(samples: readonly SampleRow[]): { s: number; instances: number; busy: number }[] {
  const ws = samples.filter((s) => s.role === 'worker' && typeof s.gauges.instances === 'number');
  const t0 = ws[0]?.t ?? 0;
  return ws.map((s) => ({ s: (s.t - t0) / 1e9, instances: s.gauges.instances!, busy: s.gauges.instances_busy ?? 0 }));
}

/** lifecycle.json: the experiment's own figures, and the cold start's phases. */
export interface LifecycleFigures {
  experiment: InstanceExperiment;
  steps?: ConcurrencyStep[];
  gaps?: BackoffGap[];
  threshold?: { warm_below: string | null; cold_from: string | null };
  interference?: { phases: InterferencePhase[]; faults: FaultOutcome[] };
  cold_phases: ColdPhases | null;
}

/** What lifecycle.html shows: the figures, and the series its charts draw that lifecycle.json leaves out. */
export interface Lifecycle {
  figures: LifecycleFigures;
  backoffPoints: ReturnType<typeof backoffPoints>;
  neighbourTimeline: ReturnType<typeof neighbourTimeline> | null;
  instancesOverTime: ReturnType<typeof instancesOverTime>;
}

export function lifecycleOf(experiment: InstanceExperiment, t: RequestTable, calls: readonly Call[], samples: readonly SampleRow[]): Lifecycle {
  const figures = { experiment } as LifecycleFigures;
  if (experiment === 'concurrency') figures.steps = concurrencySteps(calls);
  if (experiment === 'backoff') {
    figures.gaps = backoffGaps(calls);
    figures.threshold = backoffThreshold(figures.gaps);
  }
  if (experiment === 'interference') figures.interference = interference(calls);
  figures.cold_phases = coldPhases(t);
  return {
    figures,
    backoffPoints: experiment === 'backoff' ? backoffPoints(calls) : [],
    neighbourTimeline: experiment === 'interference' ? neighbourTimeline(calls) : null,
    instancesOverTime: instancesOverTime(samples),
  };
}
