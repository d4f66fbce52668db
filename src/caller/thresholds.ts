/**
 * Pass/fail thresholds on a run's measured window, as k6's thresholds are:
 * expressions such as `p99<20ms`, `p999<=250ms`, `error_rate<0.01` or
 * `error_rate<=1%`. The CLI's --max-p99 D (and --max-p50, --max-p999,
 * --max-error-rate R) are shorthands for `p99<=D` (and so on). runCaller()
 * judges them; the CLI exits 99 when one fails (k6's code). Parse errors are
 * plain Errors: options.ts and the CLI turn them into their own kind.
 */
import type { Stats } from '../stats/percentiles.js';

/** The exit code of a run whose thresholds failed (k6 uses 99 too). */
export const EXIT_THRESHOLDS_FAILED = 99;

/**
 * Why a run failed as a whole, or null: it measured no request, or every
 * measured request failed (a socket error or an answer outside 2xx), so it
 * measured nothing but errors. Exit 1 (EXIT_RUN_FAILED), unless a threshold
 * failed too: then 99, which says more.
 */
export function failedRun(r: { requests: number; responses: number; errorCount: number; errors: Record<string, number> }): string | null {
  if (r.requests === 0) return 'no request was measured';
  if (r.errorCount < r.requests) return null;
  const classes = Object.entries(r.errors)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  return r.responses === 0 ? `no request was answered (${classes})` : `every measured request failed (${classes})`;
}

const LATENCY_METRICS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean'] as const;
export type ThresholdMetric = 'error_rate' | (typeof LATENCY_METRICS)[number];

export interface Threshold {
  /** As given, without blanks, e.g. "p99<20ms". */
  name: string;
  metric: ThresholdMetric;
  op: '<' | '<=';
  /** error_rate: a fraction 0..1; latency: microseconds. */
  limit: number;
}

export interface ThresholdVerdict extends Threshold {
  /** The measured value in the limit's unit; null when nothing was measured (which fails). */
  value: number | null;
  unit: 'fraction' | 'us';
  ok: boolean;
}

const LATENCY_UNIT_US: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

/** "20ms", "250us", "1.5s" -> microseconds; a unit is required, a bare number is ambiguous. */
export function parseLatencyLimit(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|µs|ms|s)$/.exec(text.trim());
  if (!m) throw new Error(`a latency limit needs a unit (us, ms or s), such as 20ms; got ${JSON.stringify(text)}`);
  return Number(m[1]) * (LATENCY_UNIT_US[m[2]!] as number);
}

/** "0.01" or "1%" -> 0.01; must lie in 0..1. */
export function parseErrorRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const rate = m ? Number(m[1]) / (m[2] === '%' ? 100 : 1) : NaN;
  if (!(rate >= 0 && rate <= 1)) throw new Error(`an error rate is a fraction from 0 to 1 (or 0% to 100%); got ${JSON.stringify(text)}`);
  return rate;
}

export function parseThreshold(text: string): Threshold {
  const name = text.replace(/\s+/g, '');
  const m = /^(error_rate|p50|p90|p99|p99\.9|p999|max|mean)(<=|<)(.+)$/.exec(name);
  if (!m) {
    throw new Error(
      `not a threshold: ${JSON.stringify(text)}; write METRIC<VALUE or METRIC<=VALUE, METRIC one of error_rate, ${LATENCY_METRICS.join(', ')} (e.g. p99<20ms, error_rate<0.01)`,
    );
  }
  const metric = (m[1] === 'p99.9' ? 'p999' : m[1]) as ThresholdMetric;
  try {
    const limit = metric === 'error_rate' ? parseErrorRate(m[3]!) : parseLatencyLimit(m[3]!);
    return { name, metric, op: m[2] as '<' | '<=', limit };
  } catch (err) {
    throw new Error(`threshold ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

/** What the thresholds are judged on: the measured window's figures. */
export interface MeasuredFigures {
  requests: number;
  errorCount: number;
  latencyUs: Stats;
}

export function judgeThresholds(thresholds: readonly Threshold[], m: MeasuredFigures): ThresholdVerdict[] {
  return thresholds.map((t) => {
    let value: number | null;
    if (t.metric === 'error_rate') value = m.requests > 0 ? m.errorCount / m.requests : null;
    else value = m.latencyUs.count > 0 ? m.latencyUs[t.metric === 'p999' ? 'p99_9' : t.metric] : null;
    const ok = value !== null && (t.op === '<' ? value < t.limit : value <= t.limit);
    return { ...t, value, unit: t.metric === 'error_rate' ? 'fraction' : 'us', ok };
  });
}

function show(v: number, unit: ThresholdVerdict['unit']): string {
  if (unit === 'fraction') return `${+(v * 100).toPrecision(4)}%`;
  if (v >= 1_000_000) return `${+(v / 1_000_000).toFixed(3)} s`;
  return v >= 1000 ? `${+(v / 1000).toFixed(3)} ms` : `${+v.toFixed(1)} µs`;
}

/** "p99<=5ms: measured 52.31 ms, limit 5 ms" */
export function describeVerdict(v: ThresholdVerdict): string {
  const measured = v.value === null ? `nothing measured (${v.metric === 'error_rate' ? 'no request' : 'no answer'})` : `measured ${show(v.value, v.unit)}`;
  return `${v.name}: ${measured}, limit ${v.op} ${show(v.limit, v.unit)}`;
}
