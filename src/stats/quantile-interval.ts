/**
 * Distribution-free confidence intervals for percentiles, from order
 * statistics (Lancet's method; Conover, Practical Nonparametric Statistics,
 * 3rd ed., §3.2). Of n independent draws, the number below the true
 * p-quantile is Binomial(n, p), so the interval [X(l), X(u)] between two
 * order statistics covers it with probability F(u−1) − F(l−1), F the
 * binomial CDF, whatever the distribution of the values.
 *
 * Latencies one after another are seldom independent (a queue carries over
 * from request to request). Then the binomial is taken on the effective
 * sample size n_eff (independence.ts), and its ranks are scaled back to the
 * n values: the interval widens by about √(n / n_eff).
 */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import binomialQuantile from '@stdlib/stats-base-dists-binomial-quantile';

export const DEFAULT_CONFIDENCE = 0.95;

export interface RankInterval {
  /** 1-based ranks among the n values: the interval is [X(low), X(high)]. */
  lowRank: number;
  highRank: number;
  /** The coverage the binomial gives these ranks on n_eff draws (≥ the confidence asked for). */
  coverage: number;
}

/**
 * The order statistics that bound the p-quantile (p in (0, 1)) of n values
 * with at least this confidence, equal-tailed; null when n_eff draws cannot
 * bound it on both sides (the interval would need a rank below 1 or above
 * n_eff: for a 95% interval, p99.9 needs n_eff ≥ 3,688, p99 368, p90 36,
 * p50 6).
 */
export function quantileRanks(n: number, p: number, confidence = DEFAULT_CONFIDENCE, nEff = n): RankInterval | null {
  if (!(n >= 1 && p > 0 && p < 1 && confidence > 0 && confidence < 1)) return null;
  const m = Math.max(1, Math.floor(Math.min(n, nEff)));
  const tail = (1 - confidence) / 2;
  // l: the smallest k with F(k) ≥ tail, so F(l−1) < tail.
  const l = binomialQuantile(tail, m, p);
  // u: the smallest rank with F(u−1) ≥ 1 − tail.
  const u = binomialQuantile(1 - tail, m, p) + 1;
  if (l < 1 || u > m) return null;
  const coverage = binomialCdf(u - 1, m, p) - binomialCdf(l - 1, m, p);
  if (m === n) return { lowRank: l, highRank: u, coverage };
  // Correlated values: the same quantiles of the binomial, as ranks among all n (widened outwards).
  return { lowRank: Math.max(1, Math.floor((l / m) * n)), highRank: Math.min(n, Math.ceil((u / m) * n)), coverage };
}

export interface PercentileInterval {
  low: number;
  high: number;
}

/** The interval of the p-th percentile (p in percent) of ascending-sorted values; null when it cannot be computed. */
export function percentileIntervalOfSorted(sorted: ArrayLike<number>, p: number, nEff = sorted.length, confidence = DEFAULT_CONFIDENCE, scale = 1): PercentileInterval | null {
  const r = quantileRanks(sorted.length, p / 100, confidence, nEff);
  return r === null ? null : { low: sorted[r.lowRank - 1]! * scale, high: sorted[r.highRank - 1]! * scale };
}

/** The same, where a value is read by its 1-based rank (a histogram). */
export function percentileIntervalByRank(n: number, valueAtRank: (rank: number) => number, p: number, nEff = n, confidence = DEFAULT_CONFIDENCE): PercentileInterval | null {
  const r = quantileRanks(n, p / 100, confidence, nEff);
  return r === null ? null : { low: valueAtRank(r.lowRank), high: valueAtRank(r.highRank) };
}

/** The median and the tail, as the caller's checks report them: figures (number) or their intervals. */
export interface MedianTail<T> {
  p50: T;
  p99: T;
}

/** The reported percentiles and their keys (as in Stats). */
export const INTERVAL_PERCENTILES = [
  [50, 'p50'],
  [90, 'p90'],
  [99, 'p99'],
  [99.9, 'p99_9'],
] as const;
export type IntervalKey = (typeof INTERVAL_PERCENTILES)[number][1];
export type PercentileIntervals = Record<IntervalKey, PercentileInterval | null>;

/** Intervals of p50, p90, p99 and p99.9 of ascending-sorted values. */
export function intervalsOfSorted(sorted: ArrayLike<number>, nEff = sorted.length, scale = 1, confidence = DEFAULT_CONFIDENCE): PercentileIntervals {
  const out = {} as PercentileIntervals;
  for (const [p, key] of INTERVAL_PERCENTILES) out[key] = percentileIntervalOfSorted(sorted, p, nEff, confidence, scale);
  return out;
}
