/**
 * --until-ci: while the window is measured, is the chosen percentile's 95%
 * interval within ±precision of it? Read off the histogram (ranks from the
 * binomial on the effective sample size of the latest values), a few times
 * a second, so it costs the caller little while it sends.
 */
import { independenceOf } from '../stats/independence.js';
import { quantileRanks } from '../stats/quantile-interval.js';
import type { Tally } from './tally.js';

export interface PrecisionResult {
  percentile: number;
  /** The target: the interval within ± this share of the percentile. */
  precision: number;
  reached: boolean;
  /** Seconds into the window when it was reached (null: not reached). */
  atSeconds: number | null;
  /** At the end of the window: the larger side of the interval, as a share of the percentile (null: no interval yet). */
  achieved: number | null;
}

/** The interval's larger side as a share of the percentile, or null when no interval can be computed yet. */
export function achievedPrecision(tally: Tally, percentile: number): number | null {
  const n = tally.latency.recorded;
  const series = tally.series.view();
  if (n === 0 || series.length === 0) return null;
  // The latest values are enough to estimate how correlated the series is.
  const recent = series.subarray(Math.max(0, series.length - (1 << 16)));
  const nEff = independenceOf(recent).nEff * (n / recent.length);
  const ranks = quantileRanks(n, percentile / 100, 0.95, nEff);
  if (ranks === null) return null;
  const value = tally.latency.valueAtRank(Math.max(1, Math.ceil((percentile / 100) * n)));
  const low = tally.latency.valueAtRank(ranks.lowRank);
  const high = tally.latency.valueAtRank(ranks.highRank);
  return Math.max(value - low, high - value) / value;
}
