/**
 * Cells: framework × endpoint × connection count, the unit a run repeats.
 * Per cell, where the time went (mean and median of every stage) beside how
 * busy each process was while it ran (saturation.ts): a stage says where a
 * request waited, the load says why.
 */
import type { SampleRow } from '../read/ingest.js';
import type { Group } from '../read/join.js';
import type { CallerRuns } from '../read/runs.js';
import { loadIn, readLoad, windowsOf, type Finding, type Load } from './saturation.js';
import { PARTS, type Part } from './stages.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { RequestTable } from '../read/table.js';
import type { Throughput } from './throughput.js';

/** The stages a cell reports: the seven parts, their total, and the original report's handler and delta. */
export const CELL_STAGES = [...PARTS, 'roundtrip', 'handler', 'delta'] as const;
export type CellStage = Part | 'roundtrip' | 'handler' | 'delta';

export interface CellSummary {
  framework: string;
  endpoint: string;
  /** The caller's connection count; 0 when its records did not say. */
  connections: number;
  /** From caller records alone: only the roundtrip and latency are known. */
  caller_only: boolean;
  /** Open loop: its latency is from the due time (t6 − t0_intended). */
  open_loop: boolean;
  /** Caller runs (rounds) behind it. */
  rounds: number;
  /** Requests in the figures. */
  measured: number;
  requests_per_s: number;
  /** The percentile spectrum of its latency, µs: the tail that a box plot's whiskers hide. */
  latency_percentiles_us: Record<SpectrumKey, number>;
  /** µs. The means of the parts add up to the mean roundtrip (a stacked bar); medians do not. */
  stage_mean_us: Record<CellStage, number>;
  stage_p50_us: Record<CellStage, number>;
  /** Per role, how busy its process(es) were while this cell ran; a role without samples is absent. */
  load: Load;
  /** Roles whose event loop was busy ≥ 90% of the time. */
  saturated: string[];
  /** What the load shows (short tags) and what it means for the stages, one sentence each. */
  findings: Finding[];
  notes: string[];
}

const US = 1e-3;

/** The spectrum's percentiles, and their keys in summary.json. */
export const SPECTRUM = [50, 90, 99, 99.9, 99.99] as const;
export type SpectrumKey = 'p50' | 'p90' | 'p99' | 'p99_9' | 'p99_99';
export const spectrumKey = (p: (typeof SPECTRUM)[number]): SpectrumKey => `p${String(p).replace('.', '_')}` as SpectrumKey;

/** A cell's requests: one connection count of a group. */
export interface CellPart {
  connections: number;
  /** Ascending. */
  slots: Uint32Array;
}

/** A group's cells, by connection count ascending. */
export function cellParts(t: RequestTable, g: Group): CellPart[] {
  const counts = new Map<number, number>();
  const connections = t.u32.connections;
  for (const i of g.slots) counts.set(connections[i]!, (counts.get(connections[i]!) ?? 0) + 1);
  if (counts.size === 1) return [{ connections: connections[g.slots[0]!]!, slots: g.slots }];
  const parts = [...counts].sort((a, b) => a[0] - b[0]).map(([c, n]) => ({ connections: c, slots: new Uint32Array(n), fill: 0 }));
  const index = new Map(parts.map((p, k) => [p.connections, k]));
  for (const i of g.slots) {
    const p = parts[index.get(connections[i]!)!]!;
    p.slots[p.fill++] = i;
  }
  return parts.map(({ connections: c, slots }) => ({ connections: c, slots }));
}

/** What the stage loop of summarize.ts found for a cell: means, medians and the latency spectrum. */
export interface CellStages {
  mean: Record<CellStage, number>;
  p50: Record<CellStage, number>;
  spectrum: Record<SpectrumKey, number>;
}

export const CELL_STAGE_SET: ReadonlySet<string> = new Set(CELL_STAGES);

export function newCellStages(): CellStages {
  return { mean: {} as Record<CellStage, number>, p50: {} as Record<CellStage, number>, spectrum: {} as Record<SpectrumKey, number> };
}

/** A cell stage's mean and median from its sorted values (ns → µs). */
export function addCellStage(into: CellStages, stage: CellStage, sorted: Float64Array): void {
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) sum += sorted[k]!;
  into.mean[stage] = sorted.length ? (sum / sorted.length) * US : NaN;
  into.p50[stage] = percentileOfSorted(sorted, 50) * US;
}

export function addSpectrum(into: CellStages, latency: Float64Array): void {
  for (const p of SPECTRUM) into.spectrum[spectrumKey(p)] = percentileOfSorted(latency, p) * US;
}

export function cellSummary(
  t: RequestTable,
  g: Group,
  part: CellPart,
  stages: CellStages,
  throughput: Throughput,
  runs: CallerRuns,
  samples: readonly SampleRow[],
): CellSummary {
  const { slots } = part;
  const load = loadIn(windowsOf(t, slots), samples);
  const { saturated, findings, notes } = readLoad(load);
  return {
    framework: g.framework,
    endpoint: g.endpoint,
    connections: part.connections,
    caller_only: g.caller_only,
    open_loop: anyOpenLoop(t, slots),
    rounds: roundsOf(slots, runs),
    measured: slots.length,
    requests_per_s: throughput.requests_per_s,
    latency_percentiles_us: stages.spectrum,
    stage_mean_us: stages.mean,
    stage_p50_us: stages.p50,
    load,
    saturated,
    findings,
    notes,
  };
}

/** Some request was sent open loop (it has a due time). */
export function anyOpenLoop(t: RequestTable, slots: ArrayLike<number>): boolean {
  const due = t.f64.t0_intended;
  for (let k = 0; k < slots.length; k++) if (due[slots[k]!] === due[slots[k]!]) return true;
  return false;
}

/** Distinct rounds (caller runs' positions) among the requests; a request without a caller run counts as one more. */
export function roundsOf(slots: ArrayLike<number>, runs: CallerRuns): number {
  const seen = new Set<number | undefined>();
  let last = -2;
  for (let k = 0; k < slots.length; k++) {
    const run = runs.runOf[slots[k]!]!;
    if (run === last) continue;
    last = run;
    seen.add(runs.runs[run]?.round);
  }
  return seen.size;
}
