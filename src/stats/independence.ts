/**
 * How far apart two latencies must be to be treated as independent, and the
 * effective sample size that follows (used by quantile-interval.ts).
 *
 * The series is read in the order the requests completed. Its Spearman
 * autocorrelation (the Pearson autocorrelation of its ranks, as Lancet
 * tests independence) at lags 1, 2, 3, … gives:
 * - the independence lag: the first lag whose |ρ| is below WEAK (0.1) and
 *   below the 99% band of zero for that many values (2.576/√n), the lag at
 *   which latencies stop being correlated;
 * - τ, the integrated autocorrelation time, 1 + 2 Σ ρ(k), summed by Geyer's
 *   initial monotone sequence (Geyer 1992, Statistical Science 7(4):473–483:
 *   pairs ρ(2m) + ρ(2m+1) while positive and not increasing), and
 *   n_eff = n / τ. The rank autocorrelation is at least the autocorrelation
 *   of the indicators "below the p-quantile" for a Gaussian dependence
 *   (6/π·asin(ρ/2) ≥ 2/π·asin(ρ) at the median, less in the tails), so n_eff
 *   errs on the side of wider intervals.
 *
 * Cost: at most MAX_VALUES values are read (in 8 blocks spread over the
 * series when there are more), and lags stop at MAX_LAG: O(values × lag).
 */

/** Below this |ρ|, latencies count as no longer correlated. */
export const WEAK = 0.1;
const BAND_Z = 2.576;
export const MAX_VALUES = 1 << 16;
const BLOCKS = 8;
export const MAX_LAG = 2000;
/** Fewer values than this: no estimate (every value is taken as independent, and `judged` says so). */
export const MIN_VALUES = 20;

export interface Independence {
  /** Values in the series. */
  n: number;
  /** Whether there were enough values to estimate anything. */
  judged: boolean;
  /** Spearman autocorrelation at lag 1. */
  lag1: number;
  /** The first lag at which latencies are no longer correlated; null when not reached by the largest lag read. */
  lag: number | null;
  /** Integrated autocorrelation time (≥ 1). */
  tau: number;
  /** n / τ: how many independent values the series is worth. */
  nEff: number;
}

export function independenceOf(series: ArrayLike<number>): Independence {
  const n = series.length;
  if (n < MIN_VALUES) return { n, judged: false, lag1: NaN, lag: null, tau: 1, nEff: n };
  const blocks = blocksOf(series);
  const used = blocks.reduce((s, b) => s + b.length, 0);
  const maxLag = Math.min(MAX_LAG, Math.floor(blocks[0]!.length / 4));
  let denominator = 0;
  for (const b of blocks) for (let t = 0; t < b.length; t++) denominator += b[t]! * b[t]!;
  const rho = (k: number): number => {
    if (denominator === 0) return 0; // all values equal: nothing to correlate
    let sum = 0;
    for (const b of blocks) for (let t = 0, end = b.length - k; t < end; t++) sum += b[t]! * b[t + k]!;
    return sum / denominator;
  };
  const bound = Math.max(WEAK, BAND_Z / Math.sqrt(used));
  const lag1 = rho(1);
  let lag: number | null = Math.abs(lag1) < bound ? 1 : null;
  // Geyer: Γ_m = ρ(2m) + ρ(2m+1), with ρ(0) = 1.
  let tau = -1;
  let previous = Number.POSITIVE_INFINITY;
  let geyerDone = false;
  for (let m = 0; 2 * m + 1 <= maxLag && (!geyerDone || lag === null); m++) {
    const even = m === 0 ? 1 : rho(2 * m);
    const odd = m === 0 ? lag1 : rho(2 * m + 1);
    if (lag === null && m > 0 && Math.abs(even) < bound) lag = 2 * m;
    else if (lag === null && Math.abs(odd) < bound) lag = 2 * m + 1;
    if (geyerDone) continue;
    const gamma = Math.min(even + odd, previous);
    if (gamma <= 0) geyerDone = true;
    else {
      tau += 2 * gamma;
      previous = gamma;
    }
  }
  tau = Math.max(1, tau);
  return { n, judged: true, lag1, lag, tau, nEff: n / tau };
}

/** The series as centred ranks, in one block or BLOCKS blocks spread over it. */
function blocksOf(series: ArrayLike<number>): Float64Array[] {
  const n = series.length;
  if (n <= MAX_VALUES) return [centredRanks(series, 0, n)];
  const size = MAX_VALUES / BLOCKS;
  const stride = (n - size) / (BLOCKS - 1);
  return Array.from({ length: BLOCKS }, (_, b) => {
    const start = Math.round(b * stride);
    return centredRanks(series, start, start + size);
  });
}

/** Ranks (ties averaged) of series[start, end), minus their mean. */
function centredRanks(series: ArrayLike<number>, start: number, end: number): Float64Array {
  const len = end - start;
  const values = new Float64Array(len);
  for (let t = 0; t < len; t++) values[t] = series[start + t]!;
  const sorted = Float64Array.from(values).sort();
  const mean = (len + 1) / 2;
  const out = new Float64Array(len);
  for (let t = 0; t < len; t++) {
    const v = values[t]!;
    const lo = lowerBound(sorted, v);
    const hi = upperBound(sorted, v);
    // 1-based ranks lo+1 … hi share their average.
    out[t] = (lo + 1 + hi) / 2 - mean;
  }
  return out;
}

function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
