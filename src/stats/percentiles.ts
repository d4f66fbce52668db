/**
 * Exact order statistics, and the one percentile summary type of the caller
 * and the analysis. Every value is kept and sorted (a Float64Array sorts
 * numerically and fast), so there is no histogram error to argue about.
 *
 * Percentile definition: nearest rank. The p-th percentile of n sorted values
 * is the value at 1-based rank ceil(p/100 · n), at least 1. It is always an
 * observed value, so a reader can find it in requests.csv.
 */

export interface Stats {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
  mean: number;
}

/** Box-plot figures: the box is q1–q3, the whiskers reach p1 and p99 (not 1.5 IQR). */
export interface BoxStats {
  p1: number;
  q1: number;
  median: number;
  q3: number;
  p99: number;
}

export function rankIndex(n: number, p: number): number {
  // Integer arithmetic (p in thousandths): 99.9 · 1000 / 100 must be rank 999, not 1000.
  const rank = Math.ceil((Math.round(p * 1000) * n) / 100_000);
  return Math.min(n, Math.max(1, rank)) - 1;
}

/** Nearest-rank percentile of ascending-sorted values; NaN when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  return n === 0 ? NaN : sorted[rankIndex(n, p)]!;
}

export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length === 0 ? NaN : sum / values.length;
}

/** The summary figures of ascending-sorted values, each scaled (e.g. ns → µs). */
export function statsOfSorted(sorted: Float64Array, scale = 1): Stats {
  const at = (p: number) => percentileOfSorted(sorted, p) * scale;
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0]! * scale : NaN,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p99_9: at(99.9),
    max: sorted.length ? sorted[sorted.length - 1]! * scale : NaN,
    mean: meanOf(sorted) * scale,
  };
}

export function boxOfSorted(sorted: Float64Array, scale = 1): BoxStats {
  const at = (p: number) => percentileOfSorted(sorted, p) * scale;
  return { p1: at(1), q1: at(25), median: at(50), q3: at(75), p99: at(99) };
}
