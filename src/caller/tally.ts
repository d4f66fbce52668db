/**
 * Turns request outcomes into the run's figures as they arrive: counts by
 * status and failure class, the latency histogram of the measured requests,
 * the responses completed inside the measured window (for throughput), and,
 * when progress is reported, the same per interval.
 *
 * A failure is a socket-level error (its class, e.g. "timeout") or an answer
 * outside 2xx (its status class, e.g. "status_5xx"), as wrk and autocannon
 * count non-2xx. Answers of any status still have a latency: the time to a
 * 500 is measured like the time to a 200, and shown beside the error rate.
 */
import { LatencyRecorder } from './latency.js';
import type { CallerOutcome } from '../trace/records.js';

/** Index status/100; precomputed so a failure costs no string building. */
const STATUS_CLASS = Array.from({ length: 10 }, (_, i) => `status_${i}xx`);

/** The failure class of an outcome, or null for a 2xx answer. */
export function failureClass(o: Pick<CallerOutcome, 'status' | 'error'>): string | null {
  if (o.error !== null) return o.error;
  if (o.status >= 200 && o.status < 300) return null;
  return STATUS_CLASS[Math.min(9, Math.floor(o.status / 100))]!;
}

/** Counts of the current progress interval; reset after each report. */
export class IntervalTally {
  readonly latency = new LatencyRecorder();
  completed = 0;
  errors = 0;

  reset(): void {
    this.latency.reset();
    this.completed = 0;
    this.errors = 0;
  }
}

/**
 * Measured latencies (ns) in the order they completed: the exact order
 * statistics of the summary, and the series the independence and
 * steady-state checks read. 8 bytes a request, up to MAX_SERIES (beyond, the
 * histogram alone gives the figures, and the checks read the first values).
 */
export class LatencySeries {
  static readonly MAX_SERIES = 1 << 24;
  values = new Float64Array(1 << 12);
  length = 0;
  complete = true;

  push(ns: number): void {
    if (this.length === this.values.length) {
      if (this.length >= LatencySeries.MAX_SERIES) {
        this.complete = false;
        return;
      }
      const grown = new Float64Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = ns;
  }

  view(): Float64Array {
    return this.values.subarray(0, this.length);
  }
}

export class Tally {
  readonly latency = new LatencyRecorder();
  readonly series = new LatencySeries();
  readonly statusCounts: Record<string, number> = {};
  /** Failed measured requests by class. */
  readonly errors: Record<string, number> = {};
  /** Only while progress is reported, so a run without it pays nothing for it. */
  interval: IntervalTally | null = null;
  /** Every outcome, warm-up included (for progress). */
  completed = 0;
  failed = 0;
  warmupRequests = 0;
  measuredRequests = 0;
  measuredResponses = 0;
  /** Responses (any phase) completed inside [windowStart, windowEndLimit]. */
  windowResponses = 0;
  lastMeasuredT6: bigint | null = null;
  windowStart: bigint | null = null;
  windowEndLimit: bigint | null = null;

  add(o: CallerOutcome): void {
    this.completed++;
    const failure = failureClass(o);
    if (failure !== null) this.failed++;
    // Open loop: from the due time, so a stalled server cannot hide its stall.
    const latencyNs = o.error === null ? Number(o.t6 - (o.t0_intended ?? o.t0)) : 0;
    const interval = this.interval;
    if (interval !== null) {
      interval.completed++;
      if (failure !== null) interval.errors++;
      if (o.error === null) interval.latency.recordNs(latencyNs);
    }
    if (o.status > 0 && this.windowStart !== null && o.t6 >= this.windowStart) {
      if (this.windowEndLimit === null || o.t6 <= this.windowEndLimit) this.windowResponses++;
    }
    if (o.warmup) {
      this.warmupRequests++;
      return;
    }
    this.measuredRequests++;
    if (this.lastMeasuredT6 === null || o.t6 > this.lastMeasuredT6) this.lastMeasuredT6 = o.t6;
    if (failure !== null) this.errors[failure] = (this.errors[failure] ?? 0) + 1;
    if (o.error !== null) return;
    this.measuredResponses++;
    this.statusCounts[o.status] = (this.statusCounts[o.status] ?? 0) + 1;
    this.latency.recordNs(latencyNs);
    this.series.push(latencyNs < 1 ? 1 : latencyNs);
  }
}
