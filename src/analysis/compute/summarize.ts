/**
 * From joined requests to the figures of summary.json: per framework ×
 * endpoint stage statistics, shares, throughput, the comparison against the
 * baseline framework, and the connection sweep.
 */
import { compareMedians, MedianWindow, type SortedValues } from './bootstrap.js';
import {
  addCellStage,
  addSpectrum,
  anyOpenLoop,
  CELL_STAGE_SET,
  cellParts,
  cellSummary,
  newCellStages,
  roundsOf,
  type CellStage,
  type CellSummary,
} from './cells.js';
import { SortedCache } from './sorted-cache.js';
import { cellStatistics, unsteadyCellsBehind } from './cell-statistics.js';
import type { SampleRow } from '../read/ingest.js';
import type { Group, Join } from '../read/join.js';
import { byEndpoint, byFramework } from './order.js';
import { seededRandom } from './random.js';
import { compareRounds, roundMedians } from './rounds.js';
import type { CallerRuns } from '../read/runs.js';
import { originalVerdict } from './original-verdict.js';
import { stageAt, stageValues } from './stage-columns.js';
import { PARTS, STAGES, STAGES_WITHOUT_LINKS, type Part, type Stage } from './stages.js';
import { boxOfSorted, percentileOfSorted, statsOfSorted } from '../../stats/percentiles.js';
import type { Answer, Comparison, GroupSummary, SweepPoint } from './summary-types.js';
import type { RequestTable } from '../read/table.js';
import { throughputOf, type Throughput } from './throughput.js';
import { mergeSorted, sortFloat64 } from './sort.js';
import { linkSplit } from './links.js';

const US = 1e-3; // ns → µs

export interface SummarizeOptions {
  baseline: string;
  /** Stages whose medians are compared against the baseline. */
  compareStages: readonly Stage[];
  resamples: number;
  confidence: number;
  randomSeed: number;
}

export interface Figures {
  groups: GroupSummary[];
  answer: Answer;
  comparisons: Comparison[];
  sweep: SweepPoint[] | null;
  cells: CellSummary[];
}

interface Worked {
  summary: GroupSummary;
  group: Group;
  /** Per stage Σ ns, for pooled shares. */
  sums: Record<Stage, number>;
  /** Sorted ns values kept for the comparisons: only near the median, which is all they read. */
  kept: Partial<Record<Stage, SortedValues>>;
  /** Per compared stage, per round, its median (ns). */
  rounds: Partial<Record<Stage, Map<number, number>>>;
  /** Sorted per-request shares, until the pooled medians of the group's endpoint are taken (then null). */
  shareSamples: { outside: Float64Array; respond: Float64Array } | null;
  cells: CellSummary[];
  /** Per cell: what Figure 3 shows of it (latency percentiles in ns). */
  sweep: { connections: number; count: number; throughput: Throughput; p50: number; p99: number }[];
}

/** An endpoint's median shares over all its requests (of groups with stages). */
type PooledShares = Map<string, { outside: number; respond: number }>;

export function summarize(
  t: RequestTable,
  join: Join,
  runs: CallerRuns,
  samples: readonly SampleRow[],
  o: SummarizeOptions,
  cache: SortedCache = new SortedCache(),
): Figures {
  const ordered = [...join.groups].sort((a, b) => byEndpoint(a.endpoint, b.endpoint) || byFramework(a.framework, b.framework));
  // Each endpoint's pooled shares are taken as soon as its last group is worked, and the groups' per-request
  // shares dropped: kept to the end they were ~16 bytes a request at the peak.
  const left = new Map<string, number>();
  for (const g of ordered) left.set(g.endpoint, (left.get(g.endpoint) ?? 0) + 1);
  const pooled: PooledShares = new Map();
  const worked: Worked[] = [];
  for (const g of ordered) {
    worked.push(workGroup(t, g, runs, o.compareStages, samples, cache));
    const n = left.get(g.endpoint)! - 1;
    left.set(g.endpoint, n);
    if (n === 0) poolShares(g.endpoint, worked, pooled);
  }
  const cells = worked.flatMap((w) => w.cells);
  return {
    groups: worked.map((w) => w.summary),
    // The answer is about stages: caller-only groups have none.
    answer: { ...answer(t, worked.filter((w) => !w.group.caller_only), pooled), seed: originalVerdict(cells.filter((c) => !c.caller_only)) },
    comparisons: compare(worked, o).map((c) => ({ ...c, unsteady_cells: unsteadyCellsBehind(c, cells) })),
    sweep: sweep(worked),
    cells,
  };
}

/**
 * One group and its cells, stage by stage: each cell's values are sorted once
 * and serve the cell's figures, and merged they are the group's (they were
 * sorted once for the group, once per cell and once more per figure before).
 */
function workGroup(t: RequestTable, group: Group, runs: CallerRuns, compareStages: readonly Stage[], samples: readonly SampleRow[], cache: SortedCache): Worked {
  const stages: GroupSummary['stages'] = {};
  const box: GroupSummary['box'] = {};
  const sums = {} as Record<Stage, number>;
  const kept: Worked['kept'] = {};
  const rounds: Worked['rounds'] = {};
  for (const stage of compareStages) rounds[stage] = roundMedians(valuesByRound(t, stage, group.slots, runs));
  const parts = cellParts(t, group);
  const cellStages = parts.map(() => newCellStages());
  const sweepLatency: Float64Array[] = [];
  const roundtrips: Float64Array[] = [];
  // Without kernel stamps the links' parts are missing everywhere: not worth a pass each.
  for (const stage of t.kernel === null ? STAGES_WITHOUT_LINKS : STAGES) {
    const partSorted = parts.map((p) => sortFloat64(stageValues(t, stage, p.slots)));
    const sorted = mergeSorted(partSorted);
    let sum = 0;
    for (let k = 0; k < sorted.length; k++) sum += sorted[k]!;
    sums[stage] = sum;
    if (CELL_STAGE_SET.has(stage)) partSorted.forEach((v, k) => addCellStage(cellStages[k]!, stage as CellStage, v));
    if (stage === 'latency') partSorted.forEach((v, k) => (addSpectrum(cellStages[k]!, v), sweepLatency.push(v)));
    if (stage === 'roundtrip') roundtrips.push(...partSorted);
    if (sorted.length === 0) continue;
    stages[stage] = statsOfSorted(sorted, US);
    box[stage] = boxOfSorted(sorted, US);
    // Rebuilt as here (cell by cell, merged) should a draw ever leave the window.
    if (compareStages.includes(stage)) kept[stage] = new MedianWindow(sorted, () => mergeSorted(parts.map((p) => sortFloat64(stageValues(t, stage, p.slots)))));
  }
  const throughputs = parts.map((p) => throughputOf(t, p.slots, runs.runOf));
  parts.forEach((p, k) => cache.keep(group, p.connections, p.slots.length, roundtrips[k]!, throughputs[k]!));
  const cells = parts.map((p, k) => cellSummary(t, group, p, cellStages[k]!, throughputs[k]!, cellStatistics(t, p.slots, runs, sweepLatency[k]!), runs, samples));
  const shareSamples = perRequestShares(t, group.slots);
  const shares = {} as Record<Part, number>;
  // No stage but the roundtrip: every share is unknown (null in summary.json), not 0.
  const none = group.caller_only ? NaN : 1;
  for (const part of PARTS) shares[part] = (sums[part] / sums.roundtrip) * none;
  return {
    group,
    sums,
    kept,
    rounds,
    shareSamples,
    cells,
    sweep: parts.map((p, k) => ({
      connections: p.connections,
      count: p.slots.length,
      throughput: throughputs[k]!,
      p50: percentileOfSorted(sweepLatency[k]!, 50),
      p99: percentileOfSorted(sweepLatency[k]!, 99),
    })),
    summary: {
      framework: group.framework,
      endpoint: group.endpoint,
      caller_only: group.caller_only,
      rounds: roundsOf(group.slots, runs),
      open_loop: anyOpenLoop(t, group.slots),
      requests: group.total,
      measured: group.slots.length,
      excluded: group.excluded,
      throughput: parts.length === 1 ? throughputs[0]! : throughputOf(t, group.slots, runs.runOf),
      stages,
      box,
      shares,
      outside_function_share: (1 - sums.function / sums.roundtrip) * none,
      respond_share: (sums.respond / sums.roundtrip) * none,
      median_outside_function_share: percentileOfSorted(shareSamples.outside, 50) * none,
      median_respond_share: percentileOfSorted(shareSamples.respond, 50) * none,
    },
  };
}

/** The stage's values of these slots, by the round of their caller run. */
function valuesByRound(t: RequestTable, stage: Stage, slots: Uint32Array, runs: CallerRuns): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const i of slots) {
    const v = stageAt(t, stage, i);
    const round = runs.runs[runs.runOf[i]!]?.round;
    if (v !== v || round === undefined) continue;
    let list = out.get(round);
    if (!list) out.set(round, (list = []));
    list.push(v);
  }
  return out;
}

/** Each request's own share outside the function and in respond, sorted. */
function perRequestShares(t: RequestTable, slots: Uint32Array) {
  const outside = new Float64Array(slots.length);
  const respond = new Float64Array(slots.length);
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k]!;
    const total = stageAt(t, 'roundtrip', i);
    outside[k] = 1 - stageAt(t, 'function', i) / total;
    respond[k] = stageAt(t, 'respond', i) / total;
  }
  return { outside: sortFloat64(outside), respond: sortFloat64(respond) };
}

/** The endpoint's pooled median shares (groups with stages only, as in the answer); then its groups' samples go. */
function poolShares(endpoint: string, worked: Worked[], pooled: PooledShares): void {
  const ws = worked.filter((w) => w.group.endpoint === endpoint);
  const staged = ws.filter((w) => !w.group.caller_only);
  if (staged.length > 0) {
    pooled.set(endpoint, {
      outside: medianOfAll(staged.map((w) => w.shareSamples!.outside)),
      respond: medianOfAll(staged.map((w) => w.shareSamples!.respond)),
    });
  }
  for (const w of ws) w.shareSamples = null;
}

function answer(t: RequestTable, worked: Worked[], pooledShares: PooledShares): Omit<Answer, 'seed'> {
  const endpoints = [...new Set(worked.map((w) => w.group.endpoint))];
  return {
    by_endpoint: endpoints.map((endpoint) => {
      const ws = worked.filter((w) => w.group.endpoint === endpoint);
      const total = (s: Stage) => ws.reduce((acc, w) => acc + w.sums[s], 0);
      const count = ws.reduce((n, w) => n + w.group.slots.length, 0);
      const slots = new Uint32Array(count);
      ws.reduce((at, w) => (slots.set(w.group.slots, at), at + w.group.slots.length), 0);
      const shares = {} as Record<Part, number>;
      for (const part of PARTS) shares[part] = total(part) / total('roundtrip');
      return {
        endpoint,
        count,
        mean_roundtrip_us: (total('roundtrip') / count) * US,
        shares,
        outside_function_share: 1 - total('function') / total('roundtrip'),
        respond_share: total('respond') / total('roundtrip'),
        median_outside_function_share: pooledShares.get(endpoint)!.outside,
        median_respond_share: pooledShares.get(endpoint)!.respond,
        link_split: linkSplit(t, slots),
      };
    }),
  };
}

/** The median of sorted arrays pooled. */
function medianOfAll(arrays: Float64Array[]): number {
  return percentileOfSorted(arrays.length === 0 ? new Float64Array(0) : mergeSorted(arrays), 50);
}

function compare(worked: Worked[], o: SummarizeOptions): Omit<Comparison, 'unsteady_cells'>[] {
  const random = seededRandom(o.randomSeed);
  const out: Omit<Comparison, 'unsteady_cells'>[] = [];
  for (const stage of o.compareStages) {
    for (const w of worked) {
      if (w.group.framework === o.baseline) continue;
      const base = worked.find((b) => b.group.framework === o.baseline && b.group.endpoint === w.group.endpoint);
      const sample = w.kept[stage];
      const baseline = base?.kept[stage];
      if (!base || !sample || !baseline || sample.length === 0 || baseline.length === 0) continue;
      // Within the run only: requests taken as independent, so this interval is sampling noise, not the verdict.
      const d = compareMedians(sample, baseline, { resamples: o.resamples, confidence: o.confidence, random });
      const r = compareRounds(w.rounds[stage]!, base.rounds[stage]!, d.baseline_median, o.confidence);
      const us = (v: number | null) => (v === null ? null : v * US);
      out.push({
        endpoint: w.group.endpoint,
        stage,
        framework: w.group.framework,
        baseline: o.baseline,
        n: sample.length,
        baseline_n: baseline.length,
        confidence: o.confidence,
        median: d.median * US,
        baseline_median: d.baseline_median * US,
        difference: d.difference * US,
        ratio: d.ratio,
        interval_from: 'rounds',
        rounds: r.rounds,
        round_difference: us(r.round_difference),
        ci_low: us(r.ci_low),
        ci_high: us(r.ci_high),
        verdict: r.verdict,
        significant: r.verdict === 'faster' || r.verdict === 'slower',
        within_run: { resamples: o.resamples, ci_low: d.ci_low * US, ci_high: d.ci_high * US },
      });
    }
  }
  return out;
}

/** Figure 3: per framework × endpoint × connection count, when more than one count was run. */
function sweep(worked: Worked[]): SweepPoint[] | null {
  const all = new Set<number>();
  for (const w of worked) for (const p of w.sweep) all.add(p.connections);
  all.delete(0);
  if (all.size < 2) return null;
  const points: SweepPoint[] = [];
  for (const w of worked) {
    for (const p of w.sweep) {
      if (p.connections === 0) continue;
      points.push({
        framework: w.group.framework,
        endpoint: w.group.endpoint,
        connections: p.connections,
        count: p.count,
        busy_s: p.throughput.busy_s,
        requests_per_s: p.throughput.requests_per_s,
        p50_us: p.p50 * US,
        p99_us: p.p99 * US,
      });
    }
  }
  return points;
}
