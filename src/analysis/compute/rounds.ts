/**
 * Framework comparisons with the round as the unit of replication. The
 * requests of one cell in one round share its warm-up, its connections'
 * queues and the machine's mood of the moment, so they are not independent
 * samples; rounds (runs.ts) are. Per round, each framework's median; per
 * round both ran, their difference; over the rounds, a Student-t interval of
 * the mean difference (paired: a round's cells ran minutes apart, one
 * framework after the other, so they share the slow drift of the machine).
 */
import { percentileOfSorted } from '../../stats/percentiles.js';
import { sortFloat64 } from './sort.js';

/** Fewer rounds than this, and a difference cannot be judged: the interval would rest on one or two numbers. */
export const MIN_ROUNDS = 3;
/** A difference smaller than this share of the baseline's median is called negligible, whatever its interval. */
export const NEGLIGIBLE = 0.01;

export type Verdict = 'faster' | 'slower' | 'negligible' | 'no difference found' | 'cannot be judged';

export interface RoundComparison {
  /** Rounds in which both ran: the n of the interval. */
  rounds: number;
  /** Mean over those rounds of (median − baseline median), and its interval; null below MIN_ROUNDS. */
  round_difference: number | null;
  ci_low: number | null;
  ci_high: number | null;
  verdict: Verdict;
}

/** Per round, the median of that round's values (sorted ascending inside). */
export function roundMedians(byRound: Map<number, number[]>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [round, values] of byRound) {
    if (values.length > 0) out.set(round, percentileOfSorted(sortFloat64(Float64Array.from(values)), 50));
  }
  return out;
}

export function compareRounds(sample: Map<number, number>, baseline: Map<number, number>, baselineMedian: number, confidence: number): RoundComparison {
  const diffs: number[] = [];
  for (const [round, m] of sample) {
    const b = baseline.get(round);
    if (b !== undefined) diffs.push(m - b);
  }
  const n = diffs.length;
  if (n < MIN_ROUNDS) return { rounds: n, round_difference: null, ci_low: null, ci_high: null, verdict: 'cannot be judged' };
  const mean = diffs.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(confidence, n - 1) * (sd / Math.sqrt(n));
  const low = mean - half;
  const high = mean + half;
  let verdict: Verdict = 'no difference found';
  if (low > 0 || high < 0) verdict = Math.abs(mean) < NEGLIGIBLE * Math.abs(baselineMedian) ? 'negligible' : mean > 0 ? 'slower' : 'faster';
  return { rounds: n, round_difference: mean, ci_low: low, ci_high: high, verdict };
}

/**
 * The two-sided Student-t quantile: the x with P(|T| ≤ x) = confidence for
 * `df` degrees of freedom. With u = √df·tan θ the density becomes cos^(df−1) θ
 * on [0, π/2), so P(|T| ≤ √df·tan θ) = ∫₀^θ cos^(df−1) / ∫₀^(π/2) cos^(df−1):
 * a smooth integral, tabulated by Simpson's rule and inverted by bisection.
 */
export function tQuantile(confidence: number, df: number): number {
  const steps = 4096;
  const h = Math.PI / 2 / steps;
  const f = (theta: number) => Math.cos(theta) ** (df - 1);
  // cum[k] = ∫₀^(2kh): Simpson's rule per pair of steps.
  const cum = new Float64Array(steps / 2 + 1);
  for (let k = 1; k <= steps / 2; k++) {
    const a = (2 * k - 2) * h;
    cum[k] = cum[k - 1]! + (h / 3) * (f(a) + 4 * f(a + h) + f(a + 2 * h));
  }
  const target = confidence * cum[steps / 2]!;
  let k = 0;
  while (cum[k + 1]! < target) k++;
  // Within one pair of steps the integrand is near constant: interpolate, then refine by bisection on the exact integral.
  let lo = 2 * k * h;
  let hi = (2 * k + 2) * h;
  const partial = (theta: number) => {
    const m = 16;
    const w = (theta - 2 * k * h) / m;
    let s = f(2 * k * h) + f(theta);
    for (let j = 1; j < m; j++) s += (j % 2 ? 4 : 2) * f(2 * k * h + j * w);
    return cum[k]! + (w / 3) * s;
  };
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (partial(mid) < target) lo = mid;
    else hi = mid;
  }
  return Math.sqrt(df) * Math.tan((lo + hi) / 2);
}
