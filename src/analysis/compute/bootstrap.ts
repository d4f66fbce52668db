/**
 * Bootstrap confidence intervals for the difference of two medians.
 *
 * Resampling n values with replacement and taking their median costs O(n)
 * per replicate; over 100 000 requests × thousands of replicates × 20 groups
 * that is far too slow, and subsampling would widen the interval. But on
 * SORTED data the median of a resample is sorted[j], where j is the k-th
 * smallest of n uniform draws from {0..n−1}, i.e. floor(n·U(k)) with
 * U(k) ~ Beta(k, n−k+1). One Beta draw per replicate is therefore exactly
 * the ordinary full-size bootstrap of the median, at O(1) cost.
 *
 * Caveat stated in the report: the bootstrap treats requests as independent;
 * under closed-loop load neighbouring requests are correlated, so the
 * interval covers sampling noise, not run-to-run drift.
 */
import { beta } from './random.js';
import { percentileOfSorted, rankIndex } from '../../stats/percentiles.js';

/** Ascending-sorted values read by index: a Float64Array, or a MedianWindow of one. */
export interface SortedValues {
  readonly length: number;
  at(index: number): number | undefined;
}

/**
 * The values of a sorted array near its median, which is all a bootstrap of
 * the median reads (the drawn index lies within a few √n/2 of it), so the
 * comparisons need not keep every compared stage's array for the whole run
 * (~24 bytes a request). An index outside the window, which no real draw
 * reaches, rebuilds the whole array with `rebuild`: the answer stays exact.
 */
export class MedianWindow implements SortedValues {
  readonly length: number;
  private readonly from: number;
  private readonly values: Float64Array;
  private whole: Float64Array | null = null;

  constructor(sorted: Float64Array, private readonly rebuild: () => Float64Array) {
    const n = sorted.length;
    this.length = n;
    // ±32 standard deviations of the drawn index (√n/2 each), and no fewer than 4096 values a side.
    const half = Math.max(4096, Math.ceil(16 * Math.sqrt(n)));
    const mid = n === 0 ? 0 : rankIndex(n, 50);
    this.from = Math.max(0, mid - half);
    this.values = sorted.slice(this.from, Math.min(n, mid + half + 1));
  }

  at(index: number): number | undefined {
    const k = index - this.from;
    if (k >= 0 && k < this.values.length) return this.values[k];
    this.whole ??= this.rebuild();
    return this.whole[index];
  }
}

function medianOf(sorted: SortedValues): number {
  const n = sorted.length;
  return n === 0 ? NaN : sorted.at(rankIndex(n, 50))!;
}

/** Medians of `resamples` bootstrap resamples of ascending-sorted data. */
export function bootstrapMedians(sorted: SortedValues, resamples: number, random: () => number): Float64Array {
  const n = sorted.length;
  const out = new Float64Array(resamples);
  if (n === 0) return out.fill(NaN);
  const k = rankIndex(n, 50) + 1; // 1-based rank of the nearest-rank median
  for (let b = 0; b < resamples; b++) {
    const j = Math.min(n - 1, Math.floor(beta(random, k, n - k + 1) * n));
    out[b] = sorted.at(j)!;
  }
  return out;
}

export interface MedianDifference {
  median: number;
  baseline_median: number;
  /** median − baseline median */
  difference: number;
  /** median / baseline median */
  ratio: number;
  ci_low: number;
  ci_high: number;
  /** The interval excludes zero. */
  significant: boolean;
}

export interface BootstrapOptions {
  resamples: number;
  /** e.g. 0.95 */
  confidence: number;
  random: () => number;
}

/**
 * Percentile-bootstrap interval of median(sample) − median(baseline), both
 * ascending-sorted, from independent resamples of each.
 */
export function compareMedians(sample: SortedValues, baseline: SortedValues, o: BootstrapOptions): MedianDifference {
  const a = bootstrapMedians(sample, o.resamples, o.random);
  const b = bootstrapMedians(baseline, o.resamples, o.random);
  const diffs = new Float64Array(o.resamples);
  for (let i = 0; i < o.resamples; i++) diffs[i] = a[i]! - b[i]!;
  diffs.sort();
  const tail = ((1 - o.confidence) / 2) * 100;
  const median = medianOf(sample);
  const baselineMedian = medianOf(baseline);
  const low = percentileOfSorted(diffs, tail);
  const high = percentileOfSorted(diffs, 100 - tail);
  return {
    median,
    baseline_median: baselineMedian,
    difference: median - baselineMedian,
    ratio: median / baselineMedian,
    ci_low: low,
    ci_high: high,
    significant: low > 0 || high < 0,
  };
}
