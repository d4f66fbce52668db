/**
 * The shape of summary.json: the machine-readable result of an analysis.
 * Durations are in microseconds (keys say `_us` where a bare number could
 * be mistaken), offsets in nanoseconds, throughput in requests per second.
 */
import type { CallerCheckRow } from './caller-checks.js';
import type { Verdict } from './rounds.js';
import type { CellSummary } from './cells.js';
import type { RejectedExample } from '../read/ingest.js';
import type { RunMeta } from '../read/inputs.js';
import type { JoinCounts } from '../read/join.js';
import type { ClockOffset } from './offsets.js';
import type { ScaleSummary } from './scale.js';
import type { OriginalVerdict } from './original-verdict.js';
import type { Part, Stage } from './stages.js';
import type { BoxStats, Stats } from '../../stats/percentiles.js';
import type { Throughput } from './throughput.js';
import type { Timeline } from './timeline.js';
import type { LinkSplit } from './links.js';
import type { KernelSummary } from './kernel-summary.js';

export const SUMMARY_SCHEMA = 'faasbench-analysis/1';

export interface Summary {
  schema: typeof SUMMARY_SCHEMA;
  generated_at: string;
  faasbench_version: string;
  inputs: { paths: string[]; files: { path: string; bytes: number; lines: number }[] };
  /** The first run.json found (shallowest), verbatim; null when there was none. */
  run: unknown;
  runs: RunMeta[];
  units: { durations: 'µs'; offsets: 'ns'; throughput: 'requests/s'; csv_stamps_and_stages: 'ns' };
  method: Record<'percentiles' | 'box' | 'shares' | 'throughput' | 'bootstrap' | 'offsets', string>;
  records: {
    lines: number;
    by_role: Record<'caller' | 'gateway' | 'worker', number>;
    duplicates: Record<'caller' | 'gateway' | 'worker', number>;
    rejected: Record<string, number>;
    rejected_examples: RejectedExample[];
    worker_copy_mismatch: number;
    stamps_as_inexact_json_numbers: number;
    /** Saturation samples read, by role. */
    samples: Record<'caller' | 'gateway' | 'worker', number>;
    /** Records of nested calls (docs/composition.md): read by the composition figures, not joined into requests. */
    nested_calls: Record<'gateway' | 'worker', number>;
  };
  joins: JoinCounts;
  answer: Answer;
  groups: GroupSummary[];
  comparisons: Comparison[];
  /** Figure 3: only when the caller records carry more than one connection count. */
  sweep: SweepPoint[] | null;
  /** Per framework × endpoint × connection count: stage means and medians, and each role's load while it ran. */
  cells: CellSummary[];
  /** Per cell of a `faasbench run`: its arrival check and probe stream, from run.json (caller-checks.ts). */
  caller_checks: CallerCheckRow[];
  /** Per cell and second: responses, errors, latency percentiles; each role's load over time. Null without caller records. */
  timeline: Timeline | null;
  clock_offsets: ClockOffset[];
  /** Several callers, workers and gateways: each one's figures, and per worker count and policy. */
  scale: ScaleSummary;
  /** Kernel stamps: the tracers, what they saw and what joined; null when the records have none. */
  kernel: KernelSummary | null;
  warnings: string[];
}

/** The report's question: what share of the roundtrip is outside the function, and in respond? */
export interface Answer {
  by_endpoint: {
    endpoint: string;
    count: number;
    /** Σ roundtrip / count, all frameworks pooled: the shares below are of this mean. */
    mean_roundtrip_us: number;
    /** Σ stage / Σ roundtrip, all frameworks pooled (the parts add up to 1). */
    shares: Record<Part, number>;
    /** Time-weighted: Σ(roundtrip − function) / Σ roundtrip, over all frameworks. */
    outside_function_share: number;
    respond_share: number;
    /** The median over requests of each request's own share. */
    median_outside_function_share: number;
    median_respond_share: number;
    /** With kernel stamps: the links split into wire and socket waits, all frameworks pooled; null without. */
    link_split: LinkSplit | null;
  }[];
  /** The original report's conclusion, decided from the data; null when nothing was measured. */
  seed: OriginalVerdict | null;
}

export interface GroupSummary {
  framework: string;
  endpoint: string;
  /** From caller records alone (a server that is not faasbench's gateway): only roundtrip and latency; shares are null. */
  caller_only: boolean;
  /** Caller runs (rounds) behind its requests. */
  rounds: number;
  /** Some of its requests ran open loop: its latency is from the due time. */
  open_loop: boolean;
  /** Joined, non-warm-up requests. */
  requests: number;
  /** Of those, in the figures. */
  measured: number;
  excluded: Record<string, number>;
  throughput: Throughput;
  /** µs */
  stages: Partial<Record<Stage, Stats>>;
  /** µs; whiskers at p1 and p99 */
  box: Partial<Record<Stage, BoxStats>>;
  /** Σ stage / Σ roundtrip (the parts add up to 1) */
  shares: Record<Part, number>;
  outside_function_share: number;
  respond_share: number;
  median_outside_function_share: number;
  median_respond_share: number;
}

/**
 * One framework's median against the baseline framework's, same endpoint and
 * stage; µs. The verdict rests on the rounds (rounds.ts): the interval is of
 * the mean per-round difference of medians, null below 3 rounds.
 */
export interface Comparison {
  endpoint: string;
  stage: Stage;
  framework: string;
  baseline: string;
  n: number;
  baseline_n: number;
  confidence: number;
  /** Medians over all requests, their difference and ratio. */
  median: number;
  baseline_median: number;
  difference: number;
  ratio: number;
  interval_from: 'rounds';
  /** Rounds in which both ran. */
  rounds: number;
  round_difference: number | null;
  ci_low: number | null;
  ci_high: number | null;
  verdict: Verdict;
  /** The verdict is faster or slower. */
  significant: boolean;
  /** The cells (this framework's or the baseline's, at any connection count) behind it whose window was not steady: "koa /empty c=150". */
  unsteady_cells: string[];
  /** Bootstrap of the difference of medians taking requests as independent: the noise within the run, not a verdict. */
  within_run: { resamples: number; ci_low: number; ci_high: number };
}

export interface SweepPoint {
  framework: string;
  endpoint: string;
  connections: number;
  count: number;
  busy_s: number;
  requests_per_s: number;
  p50_us: number;
  p99_us: number;
}
