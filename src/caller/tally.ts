/**
 * Turns request outcomes into the run's figures as they arrive: counts by
 * status and error class, the latency histogram of the measured requests, and
 * the responses completed inside the measured window (for throughput).
 */
import { LatencyRecorder } from './latency.js';
import type { CallerOutcome } from '../trace/records.js';

export class Tally {
  readonly latency = new LatencyRecorder();
  readonly statusCounts: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
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
    if (o.error !== null) this.failed++;
    if (o.status > 0 && this.windowStart !== null && o.t6 >= this.windowStart) {
      if (this.windowEndLimit === null || o.t6 <= this.windowEndLimit) this.windowResponses++;
    }
    if (o.warmup) {
      this.warmupRequests++;
      return;
    }
    this.measuredRequests++;
    if (this.lastMeasuredT6 === null || o.t6 > this.lastMeasuredT6) this.lastMeasuredT6 = o.t6;
    if (o.error !== null) {
      this.errors[o.error] = (this.errors[o.error] ?? 0) + 1;
      return;
    }
    this.measuredResponses++;
    this.statusCounts[o.status] = (this.statusCounts[o.status] ?? 0) + 1;
    // Open loop: from the due time, so a stalled server cannot hide its stall.
    this.latency.recordNs(Number(o.t6 - (o.t0_intended ?? o.t0)));
  }
}
