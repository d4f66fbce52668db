/**
 * Scale-out figures: several callers merged (each one's own figures kept, and
 * whether they started together), the load each worker and gateway took and
 * whether the balancing policy kept it even, and throughput and latency per
 * worker count and policy (the replica experiment).
 *
 * A scale cell is framework × endpoint × connections × balancing policy ×
 * worker count: the last two come from the gateway's records.
 */
import type { Group } from '../read/join.js';
import type { ClockOffset } from './offsets.js';
import { stageAt, stageValues } from './stage-columns.js';
import type { Stage } from './stages.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { RequestTable } from '../read/table.js';
import { throughputOf } from './throughput.js';
import { sortFloat64 } from './sort.js';
import { SortedCache, type CellLatency } from './sorted-cache.js';

/** Callers whose starts differ by more than this (per cell) are warned about. */
export const DEFAULT_START_TOLERANCE_MS = 100;

export interface ScaleCell {
  framework: string;
  endpoint: string;
  connections: number;
  /** The gateways' --balance; "?" when their records did not say. */
  balance: string;
  /** Workers the gateway was given; 0 when its records did not say. */
  workers: number;
}

interface Latency {
  measured: number;
  requests_per_s: number;
  p50_us: number;
  p99_us: number;
}

export interface CallerFigures extends ScaleCell, Latency {
  /** The caller's host (its records' `host`): callers are told apart by it. */
  host: string;
  /**
   * How much later than the earliest caller of the cell its first measured
   * request went out, in ms, on a gateway clock both reached (through the
   * caller–gateway clock offsets); null when it shares no gateway with another.
   */
  start_lag_ms: number | null;
}

export interface WorkerFigures extends ScaleCell, Latency {
  /** The worker's address as the gateway names it. */
  address: string;
  /** Its share of the cell's measured calls. */
  share: number;
  function_mean_us: number;
  worker_queue_mean_us: number;
}

export interface GatewayFigures extends ScaleCell, Latency {
  host: string;
  share: number;
}

export interface ReplicaPoint extends ScaleCell, Latency {
  /** Workers that served at least one measured call. */
  workers_used: number;
  /** Busiest worker's calls over the mean per used worker: 1 is an even split. */
  max_over_mean: number;
}

export interface ScaleSummary {
  start_tolerance_ms: number;
  /** Per cell and caller host; empty with one caller host. */
  callers: CallerFigures[];
  /** Per cell and worker address. */
  workers: WorkerFigures[];
  /** Per cell and gateway host. */
  gateways: GatewayFigures[];
  /** Per cell: throughput and latency against worker count and policy. */
  replicas: ReplicaPoint[];
}

const US = 1e-3;

export function summarizeScale(
  t: RequestTable,
  groups: readonly Group[],
  runOf: Int32Array,
  offsets: readonly ClockOffset[],
  startToleranceMs = DEFAULT_START_TOLERANCE_MS,
  cache: SortedCache = new SortedCache(),
): ScaleSummary {
  const out: ScaleSummary = { start_tolerance_ms: startToleranceMs, callers: [], workers: [], gateways: [], replicas: [] };
  const callerClocks = new Set<number>();
  for (const g of groups) for (const i of g.slots) callerClocks.add(t.u16.callerClock[i]!);
  for (const g of groups) {
    for (const [cell, slots] of splitBy(g.slots, (i) => cellKey(t, i), (i) => cellOf(t, g, i))) {
      // A part with all of the cell's requests has the figures summarize.ts worked out for the cell.
      const sorted = (part: number[]) => cache.cell(g, cell.connections, part.length);
      const workers = splitBy(slots, (i) => t.u16.workerAddress[i]!, (i) => t.hosts.value(t.u16.workerAddress[i]!) ?? '?');
      for (const [address, s] of workers) {
        out.workers.push({
          ...cell, address, ...latency(t, s, runOf, sorted(s)), share: s.length / slots.length,
          function_mean_us: meanOf(t, 'function', s) * US,
          worker_queue_mean_us: meanOf(t, 'worker_queue', s) * US,
        });
      }
      for (const [host, s] of splitBy(slots, (i) => t.u16.gatewayClock[i]!, (i) => t.clockHost[t.u16.gatewayClock[i]!]!)) {
        out.gateways.push({ ...cell, host, ...latency(t, s, runOf, sorted(s)), share: s.length / slots.length });
      }
      const counts = [...workers.values()].map((s) => s.length);
      out.replicas.push({
        ...cell, ...latency(t, slots, runOf, sorted(slots)), workers_used: counts.length,
        max_over_mean: Math.max(...counts) / (slots.length / counts.length),
      });
      if (callerClocks.size > 1) out.callers.push(...callerFigures(t, cell, slots, runOf, offsets));
    }
  }
  return out;
}

/** One warning per cell whose callers did not start together. */
export function scaleWarnings(s: ScaleSummary): string[] {
  const lagging = s.callers.filter((c) => c.start_lag_ms !== null && c.start_lag_ms > s.start_tolerance_ms);
  return lagging.map(
    (c) =>
      `Caller ${c.host} started ${c.start_lag_ms!.toFixed(1)} ms after the first caller of ${c.framework} ${c.endpoint} at ${c.connections} connections ` +
      `(tolerance ${s.start_tolerance_ms} ms): the callers did not run in step, so the summed throughput overstates the load at any one time.`,
  );
}

function callerFigures(t: RequestTable, cell: ScaleCell, slots: number[], runOf: Int32Array, offsets: readonly ClockOffset[]): CallerFigures[] {
  const byCaller = splitBy(slots, (i) => t.u16.callerClock[i]!, (i) => t.u16.callerClock[i]!);
  // Each caller's first measured send, moved onto every gateway clock it reached: t0 + (gateway − caller).
  const starts = new Map<number, Map<number, number>>(); // caller clock → gateway clock → start, gateway-relative ns
  for (const [clock, s] of byCaller) {
    const first = new Map<number, number>();
    for (const i of s) {
      const g = t.u16.gatewayClock[i]!;
      const prev = first.get(g);
      if (prev === undefined || t.f64.t0[i]! < prev) first.set(g, t.f64.t0[i]!);
    }
    const onGateway = new Map<number, number>();
    const firstOverall = Math.min(...first.values());
    for (const g of first.keys()) {
      const offset = offsets.find(
        (o) => o.clocks === 'gateway − caller' && o.reference_host === t.clockHost[clock] && o.host === t.clockHost[g],
      )?.median_ns;
      // Absolute caller time + (gateway − caller) − the gateway clock's base = gateway-relative.
      if (offset !== undefined && Number.isFinite(offset)) onGateway.set(g, firstOverall + offset - t.clocks.baseDifference(g, clock));
    }
    starts.set(clock, onGateway);
  }
  return [...byCaller].map(([clock, s]) => {
    let lag: number | null = null;
    for (const [g, start] of starts.get(clock)!) {
      for (const [other, theirs] of starts) {
        const their = theirs.get(g);
        if (other === clock || their === undefined) continue;
        const earliest = Math.min(start, their);
        lag = Math.max(lag ?? 0, (start - earliest) / 1e6);
      }
    }
    return { ...cell, host: t.clockHost[clock]!, ...latency(t, s, runOf), start_lag_ms: lag };
  }).sort((x, y) => (x.host < y.host ? -1 : x.host > y.host ? 1 : 0));
}

/** `runOf`: each slot's caller run, which throughput counts the time of (callerRuns()). */
function latency(t: RequestTable, slots: ArrayLike<number>, runOf: Int32Array, known: CellLatency | null = null): Latency {
  if (known !== null) return { measured: slots.length, requests_per_s: known.throughput.requests_per_s, p50_us: known.p50 * US, p99_us: known.p99 * US };
  const rt = sortFloat64(stageValues(t, 'roundtrip', slots));
  return {
    measured: slots.length,
    requests_per_s: throughputOf(t, slots, runOf).requests_per_s,
    p50_us: percentileOfSorted(rt, 50) * US,
    p99_us: percentileOfSorted(rt, 99) * US,
  };
}

/** The mean of a stage over these requests, those without it left out. */
function meanOf(t: RequestTable, stage: Stage, slots: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let k = 0; k < slots.length; k++) {
    const v = stageAt(t, stage, slots[k]!);
    if (v !== v) continue;
    sum += v;
    n++;
  }
  return n ? sum / n : NaN;
}

function cellKey(t: RequestTable, i: number): number {
  return (t.u32.connections[i]! * 256 + t.u8.balance[i]!) * 65536 + t.u16.workerCount[i]!;
}

function cellOf(t: RequestTable, g: Group, i: number): ScaleCell {
  return {
    framework: g.framework,
    endpoint: g.endpoint,
    connections: t.u32.connections[i]!,
    balance: t.balances.value(t.u8.balance[i]!) ?? '?',
    workers: t.u16.workerCount[i]!,
  };
}

/** Slots split by a numeric key, in ascending key order, each part named by `name` of its first slot. */
function splitBy<N>(slots: ArrayLike<number>, key: (i: number) => number, name: (i: number) => N): Map<N, number[]> {
  const parts = new Map<number, { name: N; slots: number[] }>();
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k]!;
    const kk = key(i);
    let part = parts.get(kk);
    if (!part) parts.set(kk, (part = { name: name(i), slots: [] }));
    part.slots.push(i);
  }
  return new Map([...parts].sort((a, b) => a[0] - b[0]).map(([, p]) => [p.name, p.slots]));
}
