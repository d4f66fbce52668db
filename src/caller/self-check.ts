/**
 * Is the caller itself the bottleneck? A load generator whose event loop is
 * late sends late and reads responses late, and the server gets the blame.
 * We watch our own event-loop delay and CPU over the measured window and flag
 * the run when either says the caller was saturated.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface BottleneckInfo {
  /** Event-loop delay beyond the sampling interval, ms. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  /** User + system CPU of this process over the window, % of one core. */
  cpuPercent: number;
  flagged: boolean;
  reason: string | null;
}

/** Above these, the caller's own figures are suspect. */
export const EVENT_LOOP_DELAY_LIMIT_MS = 10;
export const CPU_LIMIT_PERCENT = 90;

/** monitorEventLoopDelay records the whole interval between its samples, so subtract the resolution. */
const RESOLUTION_MS = 10;

export class SelfCheck {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private cpuStart: NodeJS.CpuUsage | null = null;
  private wallStart = 0n;

  start(): void {
    this.delay.reset();
    this.delay.enable();
    this.cpuStart = process.cpuUsage();
    this.wallStart = process.hrtime.bigint();
  }

  stop(): BottleneckInfo {
    if (this.cpuStart === null) {
      return { eventLoopDelayP99Ms: 0, eventLoopDelayMaxMs: 0, cpuPercent: 0, flagged: false, reason: null };
    }
    this.delay.disable();
    const wallUs = Number(process.hrtime.bigint() - this.wallStart) / 1000;
    const cpu = process.cpuUsage(this.cpuStart);
    const cpuPercent = wallUs > 0 ? round1(((cpu.user + cpu.system) / wallUs) * 100) : 0;
    const beyond = (ns: number) => round1(Math.max(0, ns / 1e6 - RESOLUTION_MS));
    const samples = this.delay.count > 0;
    const eventLoopDelayP99Ms = samples ? beyond(this.delay.percentile(99)) : 0;
    const eventLoopDelayMaxMs = samples ? beyond(this.delay.max) : 0;
    const reasons: string[] = [];
    if (eventLoopDelayP99Ms > EVENT_LOOP_DELAY_LIMIT_MS) {
      reasons.push(`event-loop delay p99 ${eventLoopDelayP99Ms} ms > ${EVENT_LOOP_DELAY_LIMIT_MS} ms`);
    }
    if (cpuPercent > CPU_LIMIT_PERCENT) reasons.push(`CPU ${cpuPercent}% of one core > ${CPU_LIMIT_PERCENT}%`);
    return {
      eventLoopDelayP99Ms,
      eventLoopDelayMaxMs,
      cpuPercent,
      flagged: reasons.length > 0,
      reason: reasons.length > 0 ? `the caller may have been the bottleneck: ${reasons.join('; ')}` : null,
    };
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
