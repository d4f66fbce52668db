/**
 * The Anderson–Darling test that values are exponential with an unknown
 * mean (Stephens 1974, JASA 69:730–737; D'Agostino & Stephens 1986,
 * Goodness-of-Fit Techniques, ch. 4): the mean is estimated by the
 * sample mean, the statistic is modified to A²(1 + 0.6/n), and judged against
 * Stephens' upper-tail points, which hold for any n with that modification.
 * No statistics package for JavaScript has this test (stdlib has the
 * Kolmogorov–Smirnov test only with known parameters), so it lives here once.
 */

/**
 * Upper-tail points of A²(1 + 0.6/n), exponential with the mean estimated:
 * Stephens 1974 (JASA 69:730–737) and Stephens 1977 (Stanford Technical
 * Report 262), as scipy.stats.anderson tabulates them.
 */
export const EXPONENTIAL_CRITICAL: readonly { level: number; value: number }[] = [
  { level: 0.15, value: 0.916 },
  { level: 0.1, value: 1.062 },
  { level: 0.05, value: 1.321 },
  { level: 0.025, value: 1.591 },
  { level: 0.01, value: 1.959 },
];

export interface AndersonDarlingResult {
  n: number;
  mean: number;
  a2: number;
  /** A²(1 + 0.6/n), the statistic the table is for. */
  adjusted: number;
  /** The smallest tabled level at which exponentiality is rejected (0.15 … 0.01), or null when not rejected at 15%. */
  rejectedAt: number | null;
}

/** Values must be positive; a zero (or negative) value makes the statistic infinite (rejected). */
export function andersonDarlingExponential(values: ArrayLike<number>): AndersonDarlingResult {
  const n = values.length;
  const x = Float64Array.from(values as ArrayLike<number>).sort();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    // ln F(x_i) + ln(1 − F(x_{n+1−i})), F(x) = 1 − e^{−x/mean}; ln(1 − F(y)) = −y/mean exactly.
    const lnF = Math.log(-Math.expm1(-x[i]! / mean));
    sum += (2 * i + 1) * (lnF - x[n - 1 - i]! / mean);
  }
  const a2 = -n - sum / n;
  const adjusted = Number.isFinite(a2) ? a2 * (1 + 0.6 / n) : Number.POSITIVE_INFINITY;
  let rejectedAt: number | null = null;
  for (const c of EXPONENTIAL_CRITICAL) if (adjusted > c.value) rejectedAt = c.level;
  return { n, mean, a2, adjusted, rejectedAt };
}
