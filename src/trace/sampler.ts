/**
 * Saturation, measured rather than guessed: every role samples its own
 * process about once a second while it records. A stage says where a
 * request's time went; these samples say why (a loop busy all the time, a
 * pool with a queue, a caller short of CPU).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import { now } from './clock.js';

export interface Sample {
  /** End of the sampled interval: monotonic ns of this host. */
  t: bigint;
  /** Length of the interval, ms. */
  intervalMs: number;
  /** Event-loop utilisation over the interval: the share of time the loop was not idle (0..1). */
  elu: number;
  /** Event-loop delay over the interval (how late a timer ran), µs; null when no timer ran. */
  delayP50Us: number | null;
  delayP99Us: number | null;
  delayMaxUs: number | null;
  /** CPU time of the process over the interval, µs (all threads). */
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  /**
   * The garbage collector's pauses of this thread (the one whose loop stamps)
   * over the interval: their total and the longest, µs, and how many. A pause
   * stops the thread, so it lands in whichever stage the thread was timing;
   * pool and instance threads collect on their own, uncounted here.
   */
  gcPauseUs: number;
  gcMaxPauseUs: number;
  gcCount: number;
  /**
   * The role's own gauges at the end of the interval (calls in flight, pool
   * queue), and the host's: its 1-minute load average and its cores, which
   * say when every process on it waited for a CPU.
   */
  gauges: Record<string, number>;
}

export interface SamplerOptions {
  intervalMs: number;
  onSample: (sample: Sample) => void;
  gauges?: () => Record<string, number>;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;

/** The delay histogram's timer period: the delay is what it measures beyond that. */
const RESOLUTION_MS = 10;
// The host's, as its load average is: availableParallelism() alone would give a pinned process's one core.
const CORES = cpus().length || availableParallelism();

export class Sampler {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private timer: NodeJS.Timeout | null = null;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();
  private cpu: NodeJS.CpuUsage = process.cpuUsage();
  private last = now();
  private gcUs = 0;
  private gcMaxUs = 0;
  private gcCount = 0;
  // One entry per collection, delivered after it: a few per second under load.
  private readonly gc = new PerformanceObserver((list) => this.countGc(list.getEntries()));

  constructor(private readonly options: SamplerOptions) {}

  start(): this {
    this.delay.enable();
    this.gc.observe({ entryTypes: ['gc'] });
    this.reset();
    this.timer = setInterval(() => this.options.onSample(this.take()), this.options.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling; the last, partial interval is sampled too, so a short run still has one. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    const sample = this.take();
    this.delay.disable();
    this.gc.disconnect();
    if (sample.intervalMs > 0) this.options.onSample(sample);
  }

  private reset(): void {
    this.delay.reset();
    this.elu = performance.eventLoopUtilization();
    this.cpu = process.cpuUsage();
    this.last = now();
    this.gcUs = 0;
    this.gcMaxUs = 0;
    this.gcCount = 0;
  }

  private countGc(entries: PerformanceEntry[]): void {
    for (const e of entries) {
      const us = e.duration * 1e3;
      this.gcUs += us;
      if (us > this.gcMaxUs) this.gcMaxUs = us;
      this.gcCount++;
    }
  }

  private take(): Sample {
    const t = now();
    // Collections already reported but not yet delivered belong to this interval.
    this.countGc(this.gc.takeRecords());
    const elu = performance.eventLoopUtilization(this.elu);
    const cpu = process.cpuUsage(this.cpu);
    const h = this.delay;
    const beyond = (ns: number) => Math.max(0, Math.round(ns / 1e3 - RESOLUTION_MS * 1e3));
    const timed = h.count > 0;
    const sample: Sample = {
      t,
      intervalMs: Number(t - this.last) / 1e6,
      elu: elu.utilization,
      delayP50Us: timed ? beyond(h.percentile(50)) : null,
      delayP99Us: timed ? beyond(h.percentile(99)) : null,
      delayMaxUs: timed ? beyond(h.max) : null,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: process.memoryUsage.rss(),
      gcPauseUs: Math.round(this.gcUs),
      gcMaxPauseUs: Math.round(this.gcMaxUs),
      gcCount: this.gcCount,
      gauges: { ...this.options.gauges?.(), host_load1: Math.round(loadavg()[0]! * 100) / 100, host_cores: CORES },
    };
    this.reset();
    return sample;
  }
}
