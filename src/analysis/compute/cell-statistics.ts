/**
 * The statistics of one cell's latency (summary.json's cells, the report's
 * cells table): a 95% interval beside p50, p90, p99 and p99.9, on the
 * effective sample size; how correlated successive latencies were; and
 * whether each round's measured window was steady (src/stats/).
 *
 * A cell's rounds are separate caller runs minutes apart: each is read as a
 * series of its own (its requests in the order their records were first
 * read: a caller writes each record as its answer arrives), and their
 * effective sizes add up. A
 * cell is steady when every round was; a difference between rounds is the
 * comparisons' business, not a flaw of a window.
 */
import { independenceOf } from '../../stats/independence.js';
import { intervalsOfSorted, type PercentileIntervals } from '../../stats/quantile-interval.js';
import { steadyStateOf, type SteadyState } from '../../stats/steady-state.js';
import type { CallerRuns } from '../read/runs.js';
import type { RequestTable } from '../read/table.js';
import { stageAt } from './stage-columns.js';

const US = 1e-3;

export interface CellStatistics {
  /** 95% intervals (µs) of the latency's p50, p90, p99 and p99.9; null where too few effectively independent values bound one. */
  latency_ci_us: PercentileIntervals;
  /** The first lag at which successive latencies are no longer correlated (the largest over the rounds; null: not reached), and the effective sample size (summed over the rounds). */
  independence: { lag: number | null; lag1: number | null; n_eff: number };
  /** null: too few requests in every round to judge. */
  steady: boolean | null;
  /** Why not, per round ("round 2: trend +14% over the window"). */
  not_steady: string[];
  /** Each round's tests, in round order. */
  steady_state: RoundSteadiness[];
}

/** SteadyState in summary.json's vocabulary. */
export interface RoundSteadiness {
  round: number;
  batches: number;
  batch_size: number;
  steady: boolean | null;
  trend: SteadyState['trend'];
  level_shift: SteadyState['levelShift'];
  warmup: SteadyState['warmup'];
  reasons: string[];
}

/**
 * `sorted`: the cell's latencies ascending (ns), as summarize.ts already has
 * them; only each round's series in record order is built here.
 */
export function cellStatistics(t: RequestTable, slots: ArrayLike<number>, runs: CallerRuns, sorted: Float64Array): CellStatistics {
  const series = seriesByRun(t, slots, runs.runOf);
  let nEff = 0;
  let lag: number | null = 0;
  let lag1: number | null = null;
  const rounds: CellStatistics['steady_state'] = [];
  for (const [run, values] of series) {
    const ind = independenceOf(values);
    nEff += ind.nEff;
    if (ind.judged) {
      lag = lag === null || ind.lag === null ? null : Math.max(lag, ind.lag);
      lag1 = Math.max(lag1 ?? -1, ind.lag1);
    }
    const s = steadyStateOf(values, ind.lag);
    rounds.push({ round: runs.runs[run]?.round ?? 0, batches: s.batches, batch_size: s.batchSize, steady: s.steady, trend: s.trend, level_shift: s.levelShift, warmup: s.warmup, reasons: s.reasons });
  }
  rounds.sort((a, b) => a.round - b.round);
  const judged = rounds.filter((r) => r.steady !== null);
  const notSteady = judged.filter((r) => r.steady === false);
  return {
    latency_ci_us: intervalsOfSorted(sorted, Math.min(nEff, sorted.length), US),
    independence: { lag: lag1 === null ? null : lag, lag1, n_eff: nEff },
    steady: judged.length === 0 ? null : notSteady.length === 0,
    not_steady: notSteady.map((r) => `${rounds.length > 1 ? `round ${r.round}: ` : ''}${r.reasons.join('; ')}`),
    steady_state: rounds,
  };
}

/** Each caller run's latencies (ns) in slot order, the order their records were first read; missing ones left out. */
function seriesByRun(t: RequestTable, slots: ArrayLike<number>, runOf: ArrayLike<number>): Map<number, Float64Array> {
  const counts = new Map<number, number>();
  for (let k = 0; k < slots.length; k++) {
    const run = runOf[slots[k]!]!;
    counts.set(run, (counts.get(run) ?? 0) + 1);
  }
  const out = new Map<number, Float64Array>();
  const fill = new Map<number, number>();
  for (const [run, n] of counts) (out.set(run, new Float64Array(n)), fill.set(run, 0));
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k]!;
    const v = stageAt(t, 'latency', i);
    if (v !== v) continue;
    const run = runOf[i]!;
    const at = fill.get(run)!;
    out.get(run)![at] = v;
    fill.set(run, at + 1);
  }
  for (const [run, values] of out) if (fill.get(run)! < values.length) out.set(run, values.subarray(0, fill.get(run)!));
  return out;
}

/** The cells of a comparison's framework or baseline at its endpoint that were not steady, named for a reader. */
export function unsteadyCellsBehind(c: { endpoint: string; framework: string; baseline: string }, cells: readonly { framework: string; endpoint: string; connections: number; steady: boolean | null }[]): string[] {
  return cells
    .filter((x) => x.endpoint === c.endpoint && (x.framework === c.framework || x.framework === c.baseline) && x.steady === false)
    .map((x) => `${x.framework} ${x.endpoint} c=${x.connections}`);
}
