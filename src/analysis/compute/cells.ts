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
import { stageValues } from './stage-columns.js';
import { PARTS, type Part } from './stages.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { RequestTable } from '../read/table.js';
import { throughputOf } from './throughput.js';
import { linkSplit, type LinkSplit } from './links.js';

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
  /** With kernel stamps: the caller link and the RPC link split into wire and socket waits; null without. */
  link_split: LinkSplit | null;
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

export function summarizeCells(t: RequestTable, groups: readonly Group[], runs: CallerRuns, samples: readonly SampleRow[]): CellSummary[] {
  const cells: CellSummary[] = [];
  for (const g of groups) {
    const byConnections = new Map<number, number[]>();
    for (const i of g.slots) {
      const c = t.u32.connections[i]!;
      let list = byConnections.get(c);
      if (!list) byConnections.set(c, (list = []));
      list.push(i);
    }
    for (const [connections, slots] of [...byConnections].sort((a, b) => a[0] - b[0])) {
      const mean = {} as Record<CellStage, number>;
      const p50 = {} as Record<CellStage, number>;
      for (const stage of CELL_STAGES) {
        const values = stageValues(t, stage, slots).sort();
        let sum = 0;
        for (let k = 0; k < values.length; k++) sum += values[k]!;
        mean[stage] = values.length ? (sum / values.length) * US : NaN;
        p50[stage] = percentileOfSorted(values, 50) * US;
      }
      const load = loadIn(windowsOf(t, slots), samples);
      const { saturated, findings, notes } = readLoad(load);
      const latency = stageValues(t, 'latency', slots).sort();
      const spectrum = {} as Record<SpectrumKey, number>;
      for (const p of SPECTRUM) spectrum[spectrumKey(p)] = percentileOfSorted(latency, p) * US;
      cells.push({
        framework: g.framework,
        endpoint: g.endpoint,
        connections,
        caller_only: g.caller_only,
        open_loop: slots.some((i) => t.f64.t0_intended[i] === t.f64.t0_intended[i]),
        rounds: new Set(slots.map((i) => runs.runs[runs.runOf[i]!]?.round)).size,
        measured: slots.length,
        requests_per_s: throughputOf(t, slots, runs.runOf).requests_per_s,
        latency_percentiles_us: spectrum,
        stage_mean_us: mean,
        stage_p50_us: p50,
        link_split: linkSplit(t, slots),
        load,
        saturated,
        findings,
        notes,
      });
    }
  }
  return cells;
}
