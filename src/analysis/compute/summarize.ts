/**
 * From joined requests to the figures of summary.json: per framework ×
 * endpoint stage statistics, shares, throughput, the comparison against the
 * baseline framework, and the connection sweep.
 */
import { compareMedians } from './bootstrap.js';
import { summarizeCells, type CellSummary } from './cells.js';
import type { SampleRow } from '../read/ingest.js';
import type { Group, Join } from '../read/join.js';
import { byEndpoint, byFramework } from './order.js';
import { seededRandom } from './random.js';
import { compareRounds, roundMedians } from './rounds.js';
import type { CallerRuns } from '../read/runs.js';
import { originalVerdict } from './original-verdict.js';
import { stageAt, stageValues } from './stage-columns.js';
import { PARTS, STAGES, type Part, type Stage } from './stages.js';
import { boxOfSorted, percentileOfSorted, statsOfSorted } from '../../stats/percentiles.js';
import type { Answer, Comparison, GroupSummary, SweepPoint } from './summary-types.js';
import type { RequestTable } from '../read/table.js';
import { throughputOf } from './throughput.js';
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
  /** Sorted ns values kept for the comparisons. */
  kept: Partial<Record<Stage, Float64Array>>;
  /** Per compared stage, per round, its median (ns). */
  rounds: Partial<Record<Stage, Map<number, number>>>;
  shareSamples: { outside: Float64Array; respond: Float64Array };
}

export function summarize(t: RequestTable, join: Join, runs: CallerRuns, samples: readonly SampleRow[], o: SummarizeOptions): Figures {
  const ordered = [...join.groups].sort((a, b) => byEndpoint(a.endpoint, b.endpoint) || byFramework(a.framework, b.framework));
  const worked = ordered.map((g) => workGroup(t, g, runs, o.compareStages));
  const cells = summarizeCells(t, ordered, runs, samples);
  return {
    groups: worked.map((w) => w.summary),
    // The answer is about stages: caller-only groups have none.
    answer: { ...answer(t, worked.filter((w) => !w.group.caller_only)), seed: originalVerdict(cells.filter((c) => !c.caller_only)) },
    comparisons: compare(worked, o),
    sweep: sweep(t, ordered, runs),
    cells,
  };
}

function workGroup(t: RequestTable, group: Group, runs: CallerRuns, compareStages: readonly Stage[]): Worked {
  const stages: GroupSummary['stages'] = {};
  const box: GroupSummary['box'] = {};
  const sums = {} as Record<Stage, number>;
  const kept: Worked['kept'] = {};
  const rounds: Worked['rounds'] = {};
  for (const stage of compareStages) rounds[stage] = roundMedians(valuesByRound(t, stage, group.slots, runs));
  for (const stage of STAGES) {
    const sorted = stageValues(t, stage, group.slots).sort();
    let sum = 0;
    for (let k = 0; k < sorted.length; k++) sum += sorted[k]!;
    sums[stage] = sum;
    if (sorted.length === 0) continue;
    stages[stage] = statsOfSorted(sorted, US);
    box[stage] = boxOfSorted(sorted, US);
    if (compareStages.includes(stage)) kept[stage] = sorted;
  }
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
    summary: {
      framework: group.framework,
      endpoint: group.endpoint,
      caller_only: group.caller_only,
      rounds: new Set(Array.from(group.slots, (i) => runs.runs[runs.runOf[i]!]?.round)).size,
      open_loop: Array.from(group.slots).some((i) => t.f64.t0_intended[i] === t.f64.t0_intended[i]),
      requests: group.total,
      measured: group.slots.length,
      excluded: group.excluded,
      throughput: throughputOf(t, group.slots, runs.runOf),
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
  return { outside: outside.sort(), respond: respond.sort() };
}

function answer(t: RequestTable, worked: Worked[]): Omit<Answer, 'seed'> {
  const endpoints = [...new Set(worked.map((w) => w.group.endpoint))];
  return {
    by_endpoint: endpoints.map((endpoint) => {
      const ws = worked.filter((w) => w.group.endpoint === endpoint);
      const total = (s: Stage) => ws.reduce((acc, w) => acc + w.sums[s], 0);
      const pooled = (pick: (w: Worked) => Float64Array) => medianOfAll(ws.map(pick));
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
        median_outside_function_share: pooled((w) => w.shareSamples.outside),
        median_respond_share: pooled((w) => w.shareSamples.respond),
        link_split: linkSplit(t, slots),
      };
    }),
  };
}

function medianOfAll(arrays: Float64Array[]): number {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  return percentileOfSorted(all.sort(), 50);
}

function compare(worked: Worked[], o: SummarizeOptions): Comparison[] {
  const random = seededRandom(o.randomSeed);
  const out: Comparison[] = [];
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
function sweep(t: RequestTable, groups: Group[], runs: CallerRuns): SweepPoint[] | null {
  const all = new Set<number>();
  for (const g of groups) for (const i of g.slots) all.add(t.u32.connections[i]!);
  all.delete(0);
  if (all.size < 2) return null;
  const points: SweepPoint[] = [];
  for (const g of groups) {
    const byConnections = new Map<number, number[]>();
    for (const i of g.slots) {
      const c = t.u32.connections[i]!;
      if (c === 0) continue;
      let list = byConnections.get(c);
      if (!list) byConnections.set(c, (list = []));
      list.push(i);
    }
    for (const [connections, slots] of [...byConnections].sort((a, b) => a[0] - b[0])) {
      const tp = throughputOf(t, slots, runs.runOf);
      const rt = stageValues(t, 'latency', slots).sort();
      points.push({
        framework: g.framework,
        endpoint: g.endpoint,
        connections,
        count: slots.length,
        busy_s: tp.busy_s,
        requests_per_s: tp.requests_per_s,
        p50_us: percentileOfSorted(rt, 50) * US,
        p99_us: percentileOfSorted(rt, 99) * US,
      });
    }
  }
  return points;
}
