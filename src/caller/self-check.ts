/**
 * Is the caller itself the bottleneck? A load generator whose event loop is
 * late sends late and reads responses late, and the server gets the blame.
 * The verdict is read off the caller's own saturation samples (the same ones
 * its records carry) over the measured window.
 */
import type { Sample } from '../trace/sampler.js';

export interface BottleneckInfo {
  /** Event-loop delay (beyond the timer's period), worst sample's p99 and max, ms. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** Share of the window the event loop was busy, %. */
  eventLoopUtilizationPercent: number;
  /** User + system CPU of this process over the window, % of one core. */
  cpuPercent: number;
  /** Samples judged, and the time they cover. */
  samples: number;
  sampledSeconds: number;
  flagged: boolean;
  reason: string | null;
}

/** Above these, the caller's own figures are suspect. */
export const EVENT_LOOP_DELAY_LIMIT_MS = 10;
export const CPU_LIMIT_PERCENT = 90;
export const ELU_LIMIT_PERCENT = 95;
/** Less sampled time than this is too little to judge: a start-up's JIT and first connections would dominate. */
export const MIN_JUDGED_MS = 500;

export class SelfCheck {
  private readonly samples: Sample[] = [];
  private windowStart: bigint | null = null;

  /** The measured window begins: samples mostly after this moment count. */
  start(at: bigint): void {
    this.windowStart = at;
  }

  add(sample: Sample): void {
    if (this.windowStart === null) return;
    const midpoint = sample.t - BigInt(Math.round((sample.intervalMs * 1e6) / 2));
    if (midpoint >= this.windowStart) this.samples.push(sample);
  }

  stop(): BottleneckInfo {
    let ms = 0;
    let cpuUs = 0;
    let busyMs = 0;
    let p99 = 0;
    let max = 0;
    for (const s of this.samples) {
      ms += s.intervalMs;
      cpuUs += s.cpuUserUs + s.cpuSystemUs;
      busyMs += s.elu * s.intervalMs;
      p99 = Math.max(p99, s.delayP99Us ?? 0);
      max = Math.max(max, s.delayMaxUs ?? 0);
    }
    const judged = ms >= MIN_JUDGED_MS;
    const info: BottleneckInfo = {
      eventLoopDelayP99Ms: round1(p99 / 1e3),
      eventLoopDelayMaxMs: round1(max / 1e3),
      eventLoopUtilizationPercent: ms > 0 ? round1((busyMs / ms) * 100) : 0,
      cpuPercent: ms > 0 ? round1((cpuUs / 1e3 / ms) * 100) : 0,
      samples: this.samples.length,
      sampledSeconds: round1(ms / 1e3),
      flagged: false,
      reason: null,
    };
    if (!judged) return info;
    const reasons: string[] = [];
    if (info.eventLoopDelayP99Ms > EVENT_LOOP_DELAY_LIMIT_MS) {
      reasons.push(`event-loop delay p99 ${info.eventLoopDelayP99Ms} ms > ${EVENT_LOOP_DELAY_LIMIT_MS} ms`);
    }
    if (info.cpuPercent > CPU_LIMIT_PERCENT) reasons.push(`CPU ${info.cpuPercent}% of one core > ${CPU_LIMIT_PERCENT}%`);
    if (info.eventLoopUtilizationPercent > ELU_LIMIT_PERCENT) {
      reasons.push(`event loop busy ${info.eventLoopUtilizationPercent}% of the time > ${ELU_LIMIT_PERCENT}%`);
    }
    if (reasons.length > 0) {
      info.flagged = true;
      info.reason = `the caller may have been the bottleneck: ${reasons.join('; ')}`;
    }
    return info;
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
