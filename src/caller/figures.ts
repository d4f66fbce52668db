/**
 * The measured window's latency figures with their statistics: exact order
 * statistics (the series keeps every latency; a run past its cap falls back
 * to the histogram), a 95% interval beside p50, p90, p99 and p99.9 on the
 * effective sample size, and whether the window looks steady.
 */
import { independenceOf, type Independence } from '../stats/independence.js';
import { statsOfSorted, type Stats } from '../stats/percentiles.js';
import { intervalsOfSorted, percentileIntervalByRank, INTERVAL_PERCENTILES, type PercentileIntervals } from '../stats/quantile-interval.js';
import { steadyStateOf, type SteadyState } from '../stats/steady-state.js';
import type { LatencyRecorder } from './latency.js';
import type { LatencySeries } from './tally.js';

const US = 1e-3;

export interface LatencyFigures {
  latencyUs: Stats;
  /** 95% intervals, µs; null where too few (effectively independent) values bound it. */
  latencyCiUs: PercentileIntervals;
  independence: Pick<Independence, 'lag' | 'lag1' | 'tau' | 'nEff'> & { judged: boolean };
  steadyState: SteadyState;
}

export function latencyFigures(series: LatencySeries, histogram: LatencyRecorder): LatencyFigures {
  const values = series.view();
  const independence = independenceOf(values);
  const steadyState = steadyStateOf(values, independence.lag);
  const { lag, lag1, tau, nEff, judged } = independence;
  if (series.complete) {
    const sorted = Float64Array.from(values).sort();
    const latencyUs = sorted.length === 0 ? histogram.summary() : { ...statsOfSorted(sorted, US), mean: histogram.summary().mean };
    return { latencyUs, latencyCiUs: intervalsOfSorted(sorted, nEff, US), independence: { lag, lag1, tau, nEff, judged }, steadyState };
  }
  // Scaled to the histogram's count: the series holds its first values only.
  const n = histogram.recorded;
  const scaled = nEff * (n / values.length);
  const latencyCiUs = {} as PercentileIntervals;
  for (const [p, key] of INTERVAL_PERCENTILES) {
    const r = percentileIntervalByRank(n, (rank) => histogram.valueAtRank(rank) * US, p, scaled);
    latencyCiUs[key] = r;
  }
  return { latencyUs: histogram.summary(), latencyCiUs, independence: { lag, lag1, tau, nEff: scaled, judged }, steadyState };
}
