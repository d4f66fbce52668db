/**
 * The `concurrency` policy: Knative's Pod Autoscaler (KPA) decider, as
 * knative/serving pkg/autoscaler/scaling/autoscaler.go computes it, over the
 * gateways' calls in flight instead of the queue-proxies' request counts.
 *
 * Each tick the mean concurrency is read over two windows from the gateways'
 * faasbench_gateway_calls_in_flight_seconds_total (its increase over a window
 * divided by the window is the time-weighted mean in flight): the stable
 * window and the panic window (a percentage of it). Then, with ready = the
 * workers taking calls (at least 1) and target = target × utilization:
 *   desired_stable = ceil(stable / target), desired_panic = ceil(panic / target),
 *   each kept within [floor(ready / maxScaleDownRate), ceil(ready × maxScaleUpRate)];
 *   panic begins when desired_panic / ready ≥ panicThreshold and lasts until a
 *   whole stable window passes below it; while panicking the count never falls
 *   (the highest desired count since the panic began).
 * Finally the count is kept within [min, max].
 */

/** Knative's config-autoscaler defaults, and where each comes from. */
export interface KnativeParams {
  /** Concurrent calls per worker wanted (container-concurrency-target-default: 100). */
  target: number;
  /** Share of the target to aim at (container-concurrency-target-percentage: 70 %). */
  utilization: number;
  /** The stable window (stable-window: 60 s). */
  stableWindowMs: number;
  /** The panic window as a share of the stable one (panic-window-percentage: 10 %, so 6 s). */
  panicWindowPercent: number;
  /** Panic when the panic window wants this share of the ready workers (panic-threshold-percentage: 200 %). */
  panicThresholdPercent: number;
  /** At most this many times the ready workers at once (max-scale-up-rate: 1000). */
  maxScaleUpRate: number;
  /** At least the ready workers divided by this (max-scale-down-rate: 2). */
  maxScaleDownRate: number;
  /** How often to decide (tick-interval: 2 s). */
  tickMs: number;
  /** Bounds of the worker count (min-scale, max-scale; Knative's max 0 means none: here it must be given). */
  min: number;
  max: number;
}

export const KNATIVE_DEFAULTS: KnativeParams = {
  target: 100,
  utilization: 0.7,
  stableWindowMs: 60_000,
  panicWindowPercent: 10,
  panicThresholdPercent: 200,
  maxScaleUpRate: 1000,
  maxScaleDownRate: 2,
  tickMs: 2000,
  min: 1,
  max: 10,
};

export interface KnativeDecision {
  desired: number;
  /** Mean concurrency over the stable and the panic window. */
  stable: number;
  panic: number;
  panicking: boolean;
}

export class KnativeDecider {
  /** (ms, seconds in flight so far) readings, oldest first, kept for one stable window. */
  private readings: Array<[number, number]> = [];
  private panicSince: number | null = null;
  private maxPanic = 0;

  constructor(readonly p: KnativeParams) {}

  /** A reading of the gateways' summed calls-in-flight seconds at `tMs`. */
  observe(tMs: number, busySeconds: number): void {
    this.readings.push([tMs, busySeconds]);
    while (this.readings.length > 2 && this.readings[1]![0] <= tMs - this.p.stableWindowMs) this.readings.shift();
  }

  /** Mean in flight over the last `windowMs` (or what history there is); null before two readings. */
  private mean(windowMs: number): number | null {
    const last = this.readings.at(-1);
    if (!last || this.readings.length < 2) return null;
    let first = this.readings[0]!;
    for (const r of this.readings) {
      if (r[0] >= last[0] - windowMs) {
        first = r === last ? this.readings.at(-2)! : r;
        break;
      }
    }
    return (last[1] - first[1]) / ((last[0] - first[0]) / 1000);
  }

  /** The mean concurrency over the stable and the panic window; null before two readings. */
  means(): { stable: number; panic: number } | null {
    const stable = this.mean(this.p.stableWindowMs);
    const panic = this.mean((this.p.stableWindowMs * this.p.panicWindowPercent) / 100);
    return stable === null || panic === null ? null : { stable, panic };
  }

  /** The worker count wanted, with `ready` workers taking calls; null while there is no data yet. */
  decide(tMs: number, readyWorkers: number): KnativeDecision | null {
    const m = this.means();
    return m === null ? null : this.decideOn(tMs, m.stable, m.panic, readyWorkers);
  }

  /** The decision on these window means (several gateways' summed). */
  decideOn(tMs: number, stable: number, panic: number, readyWorkers: number): KnativeDecision {
    const p = this.p;
    const ready = Math.max(1, readyWorkers);
    const target = p.target * p.utilization;
    const maxUp = Math.ceil(p.maxScaleUpRate * ready);
    const maxDown = Math.floor(ready / p.maxScaleDownRate);
    const dspc = Math.ceil(stable / target);
    const dppc = Math.ceil(panic / target);
    const desiredStable = Math.min(Math.max(dspc, maxDown), maxUp);
    const desiredPanic = Math.min(Math.max(dppc, maxDown), maxUp);
    const over = dppc / ready >= p.panicThresholdPercent / 100;
    if (over) this.panicSince = tMs;
    else if (this.panicSince !== null && this.panicSince + p.stableWindowMs < tMs) {
      this.panicSince = null;
      this.maxPanic = 0;
    }
    let desired = desiredStable;
    if (this.panicSince !== null) {
      desired = Math.max(desired, desiredPanic);
      // No decrease while panicking.
      this.maxPanic = Math.max(this.maxPanic, desired);
      desired = this.maxPanic;
    }
    return { desired: Math.min(Math.max(desired, p.min), p.max), stable, panic, panicking: this.panicSince !== null };
  }
}
