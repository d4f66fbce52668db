/**
 * Latency accounting at nanosecond input, reported in microseconds.
 *
 * An HdrHistogram over nanoseconds with 4 significant digits: a bucket is at
 * most 1/16384 of its value wide, i.e. <= 1.024 us up to 33.5 ms (<= 512 ns
 * up to 16.7 ms) and <= 0.006% beyond, within a bounded ~1.5 MB whatever the
 * run length. A percentile is its bucket's upper edge, so it may read high by
 * at most that width. (autocannon's histogram, by contrast, truncates to
 * whole milliseconds; see connection.ts.) Min, max and mean are exact.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { Stats } from '../stats/percentiles.js';

const US = 1000;

export class LatencyRecorder {
  private readonly histogram: Histogram = build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2 ** 30, // ~1 s; grows as needed
    numberOfSignificantValueDigits: 4,
  });
  private count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  recordNs(ns: number): void {
    const v = ns < 1 ? 1 : ns;
    this.histogram.recordValue(v);
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Microseconds, with ns-derived decimals; every figure 0 when count is 0. */
  summary(): Stats {
    if (this.count === 0) return { count: 0, min: 0, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0, mean: 0 };
    // A percentile is reported as its bucket's upper edge, so clamp into [min, max].
    const at = (p: number) => Math.min(this.max, Math.max(this.min, this.histogram.getValueAtPercentile(p))) / US;
    return {
      count: this.count,
      min: this.min / US,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p99_9: at(99.9),
      max: this.max / US,
      mean: Math.round(this.sum / this.count) / US,
    };
  }

  /** The value (ns) of 1-based rank r among the recorded values, within the histogram's precision. */
  valueAtRank(r: number): number {
    const v = this.histogram.getValueAtPercentile((100 * (r - 0.5)) / this.count);
    return Math.min(this.max, Math.max(this.min, v));
  }

  get recorded(): number {
    return this.count;
  }

  /** Empties it for reuse (the per-interval progress figures), without allocating. */
  reset(): void {
    this.histogram.reset();
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  destroy(): void {
    this.histogram.destroy();
  }
}
