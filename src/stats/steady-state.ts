/**
 * Was the system in a steady state while a cell was measured? The measured
 * latencies, in the order the requests completed, are cut into batches of
 * consecutive requests (at least 10 each, and twice the independence lag
 * where that leaves at least 20 batches, so that batch medians are close to
 * independent; at most 100 batches), and the batch medians are tested:
 * - trend: Mann–Kendall (Kendall 1975, Rank Correlation Methods; variance
 *   with the tie correction), its size by Sen's slope (Sen 1968, JASA 63:
 *   1379–1389) over the window;
 * - level shift: Pettitt's change-point test (Pettitt 1979, Applied
 *   Statistics 28(2):126–135, p ≈ 2·exp(−6K²/(T³+T²))), its size the
 *   difference of the medians before and after;
 * - warm-up: MSER-5 (White 1997; Franklin & White 2008): the batch medians in
 *   groups of 5, and the truncation d* that minimises the standard error of
 *   what is left. d* > 0 means the measured window still began in a
 *   transient: the warm-up was too short (when the discarded part's mean
 *   differs from the rest's beyond 2.576 standard errors of the groups that
 *   stay).
 * A finding counts only when it is significant (p < ALPHA) and material
 * (≥ MATERIAL of the median): a drift of 1% that thousands of requests make
 * significant is not a reason to distrust a cell.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

export const ALPHA = 0.01;
export const MATERIAL = 0.1;
export const MIN_BATCH = 10;
export const MAX_BATCHES = 100;
/** Fewer batches than this, and no trend or shift can be judged. */
export const MIN_BATCHES = 10;
/** MSER-5 is judged on at least 10 groups of 5: on fewer, its cut is a quarter of the window or coarser. */
export const MIN_MSER_BATCHES = 50;
const Z_ALPHA = 2.576;

export interface TrendTest {
  /** Mann–Kendall S, its normal score and two-sided p. */
  s: number;
  z: number;
  p: number;
  /** Sen's slope × the window, relative to the median (0.2: 20% higher at the end). */
  change: number;
  flagged: boolean;
}

export interface ShiftTest {
  /** Pettitt's K and its approximate p. */
  k: number;
  p: number;
  /** Where the shift most likely is, as a share of the window (0..1). */
  at: number;
  /** Median after − median before, relative to the median. */
  shift: number;
  flagged: boolean;
}

export interface WarmupTest {
  /** MSER-5's truncation, as a share of the window (0: nothing to discard). */
  discard: number;
  /** Mean of the discarded part − mean of the rest, relative to the median. */
  difference: number;
  /** True when the warm-up was long enough. */
  enough: boolean;
}

export interface SteadyState {
  /** Batches tested and requests per batch; 0 batches when there were too few requests. */
  batches: number;
  batchSize: number;
  /** null: too few requests (or batches) to judge. */
  steady: boolean | null;
  trend: TrendTest | null;
  levelShift: ShiftTest | null;
  warmup: WarmupTest | null;
  /** Why it is not steady, one short phrase each. */
  reasons: string[];
}

/** `lag`: the independence lag (independence.ts), or null when unknown. */
export function steadyStateOf(series: ArrayLike<number>, lag: number | null): SteadyState {
  const n = series.length;
  // Batches twice the independence lag, but never fewer than MSER-5 needs: a drift or a shift itself
  // makes the ranks look correlated far out (or the lag is not reached at all).
  const wanted = Math.floor(n / Math.max(MIN_BATCH, 2 * (lag ?? n)));
  const batches = Math.min(MAX_BATCHES, Math.max(wanted, Math.min(MIN_MSER_BATCHES, Math.floor(n / MIN_BATCH))));
  const batchSize = batches > 0 ? Math.floor(n / batches) : n;
  if (batches < MIN_BATCHES) return { batches: 0, batchSize, steady: null, trend: null, levelShift: null, warmup: null, reasons: [] };
  const medians = batchMedians(series, batchSize, batches);
  const median = medianOf(medians);
  const trend = mannKendall(medians, median);
  const levelShift = pettitt(medians, median);
  const warmup = batches >= MIN_MSER_BATCHES ? mser5(medians, median) : null;
  const reasons: string[] = [];
  const pct = (x: number) => `${x > 0 ? '+' : ''}${Math.round(x * 100)}%`;
  if (trend.flagged) reasons.push(`trend ${pct(trend.change)} over the window`);
  if (levelShift.flagged) reasons.push(`level shift ${pct(levelShift.shift)} at ${Math.round(levelShift.at * 100)}% of the window`);
  if (warmup && !warmup.enough) reasons.push(`warm-up too short: the first ${Math.round(warmup.discard * 100)}% of the window differs by ${pct(warmup.difference)}`);
  return { batches, batchSize, steady: reasons.length === 0, trend, levelShift, warmup, reasons };
}

function batchMedians(series: ArrayLike<number>, size: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const batch = new Float64Array(size);
  for (let b = 0; b < count; b++) {
    for (let k = 0; k < size; k++) batch[k] = series[b * size + k]!;
    out[b] = medianOf(batch);
  }
  return out;
}

/** The median (mean of the middle two for an even count); sorts a copy. */
export function medianOf(values: ArrayLike<number>): number {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function mannKendall(y: ArrayLike<number>, median = medianOf(y)): TrendTest {
  const n = y.length;
  let s = 0;
  const slopes: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = y[j]! - y[i]!;
      s += Math.sign(d);
      slopes.push(d / (j - i));
    }
  }
  let ties = 0;
  for (const t of tieGroups(y)) ties += t * (t - 1) * (2 * t + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - ties) / 18;
  const z = variance > 0 ? (s - Math.sign(s)) / Math.sqrt(variance) : 0;
  const p = 2 * (1 - normalCdf(Math.abs(z), 0, 1));
  const change = (medianOf(slopes) * (n - 1)) / median;
  return { s, z, p, change, flagged: p < ALPHA && Math.abs(change) >= MATERIAL };
}

export function pettitt(y: ArrayLike<number>, median = medianOf(y)): ShiftTest {
  const n = y.length;
  const ranks = averageRanks(y);
  let u = 0;
  let k = 0;
  let at = 1;
  for (let t = 1; t < n; t++) {
    u += 2 * ranks[t - 1]! - (n + 1);
    if (Math.abs(u) > k) {
      k = Math.abs(u);
      at = t;
    }
  }
  const p = Math.min(1, 2 * Math.exp((-6 * k * k) / (n ** 3 + n ** 2)));
  const before = medianOf(Array.prototype.slice.call(y, 0, at) as number[]);
  const after = medianOf(Array.prototype.slice.call(y, at) as number[]);
  const shift = (after - before) / median;
  return { k, p, at: at / n, shift, flagged: p < ALPHA && Math.abs(shift) >= MATERIAL };
}

export function mser5(y: ArrayLike<number>, median = medianOf(y)): WarmupTest {
  const groups = Math.floor(y.length / 5);
  const z = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let k = 0; k < 5; k++) sum += y[g * 5 + k]!;
    z[g] = sum / 5;
  }
  let best = Number.POSITIVE_INFINITY;
  let d = 0;
  for (let cut = 0; cut <= Math.floor(groups / 2); cut++) {
    const rest = groups - cut;
    let mean = 0;
    for (let g = cut; g < groups; g++) mean += z[g]!;
    mean /= rest;
    let ss = 0;
    for (let g = cut; g < groups; g++) ss += (z[g]! - mean) ** 2;
    const stat = ss / (rest * rest);
    if (cut === 0 || stat < best * (1 - 1e-12)) {
      best = stat;
      d = cut;
    }
  }
  if (d === 0) return { discard: 0, difference: 0, enough: true };
  let head = 0;
  for (let g = 0; g < d; g++) head += z[g]!;
  let tail = 0;
  for (let g = d; g < groups; g++) tail += z[g]!;
  const rest = groups - d;
  const restMean = tail / rest;
  let ss = 0;
  for (let g = d; g < groups; g++) ss += (z[g]! - restMean) ** 2;
  // The cut counts when the discarded part differs materially and beyond the noise of the groups that stay.
  const se = Math.sqrt(ss / Math.max(1, rest - 1)) * Math.sqrt(1 / d + 1 / rest);
  const gap = head / d - restMean;
  const difference = gap / median;
  return { discard: (d * 5) / y.length, difference, enough: Math.abs(difference) < MATERIAL || Math.abs(gap) <= Z_ALPHA * se };
}

/** Sizes of groups of equal values (only groups of 2 or more). */
function tieGroups(y: ArrayLike<number>): number[] {
  const s = Float64Array.from(y as ArrayLike<number>).sort();
  const out: number[] = [];
  let run = 1;
  for (let i = 1; i <= s.length; i++) {
    if (i < s.length && s[i] === s[i - 1]) run++;
    else {
      if (run > 1) out.push(run);
      run = 1;
    }
  }
  return out;
}

function averageRanks(y: ArrayLike<number>): Float64Array {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[a]! - y[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && y[order[j + 1]!] === y[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}
