/**
 * A scaler: a policy (policies.ts) deciding how many workers a fleet should
 * have, and an actuator making it so. Locally (`faasbench run`) the actuator
 * starts and stops worker processes (run/fleet-workers.ts); on a fleet it
 * activates and drains pre-deployed workers (PoolActuator). Either way the
 * gateways see the change through their workers file.
 *
 * - fixed: sets the count once.
 * - concurrency: every tick, reads the gateways' calls-in-flight seconds
 *   from their /metrics and asks the Knative decider (knative.ts).
 * - alert: waits for Alertmanager's webhook (webhook.ts); each alert's
 *   status moves the count as OpenFaaS does.
 */
import type { Logger } from '../log.js';
import { KnativeDecider, type KnativeParams } from './knative.js';
import { openfaasReplicas, type AlertParams, type FixedParams, type PolicyName } from './policies.js';

/** What a scaler moves. */
export interface Actuator {
  /** The count last asked for (the scale's "desired replicas"). */
  readonly target: number;
  /** Workers in the set and serving (Knative's ready pods). */
  readonly ready: number;
  /** Moves the fleet to `n` workers; resolves once it is there (new ones in the set, removed ones drained). */
  scaleTo(n: number): Promise<void>;
}

export interface Decision {
  /** Milliseconds since the scaler started. */
  ms: number;
  policy: PolicyName;
  /** What moved the policy: "tick", "start", an alert's "firing" or "resolved". */
  reason: string;
  current: number;
  desired: number;
  /** What the policy saw (the windows' mean concurrency, whether it panics). */
  values: Record<string, number | boolean>;
}

export interface ScalerOptions {
  policy: PolicyName;
  fixed: FixedParams;
  concurrency: KnativeParams;
  alert: AlertParams;
  actuator: Actuator;
  /** The gateways' /metrics URLs (concurrency). */
  metricsUrls: string[];
  onDecision?: (d: Decision) => void;
  logger: Logger;
}

/** The summed value of one metric over every series of an exposition; null when it has none. */
export function metricSum(exposition: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

export class Scaler {
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();
  /** One window of readings per gateway, each on its clock. */
  private readonly deciders: KnativeDecider[];
  /** The latest count wanted; applied one move at a time. */
  private wanted: number | null = null;
  private applying: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: ScalerOptions) {
    this.deciders = o.metricsUrls.map(() => new KnativeDecider(o.concurrency));
  }

  start(): void {
    const { policy } = this.o;
    if (policy === 'fixed') this.decide('start', this.o.fixed.workers, {});
    if (policy === 'concurrency') {
      this.timer = setInterval(() => void this.tick(), this.o.concurrency.tickMs);
      void this.tick();
    }
  }

  /** Alertmanager's webhook body: each alert moves the count (policy alert). */
  alerts(alerts: Array<{ status: string; labels?: Record<string, string> }>): void {
    if (this.o.policy !== 'alert') return;
    for (const a of alerts) {
      const desired = openfaasReplicas(a.status, this.currentTarget(), this.o.alert);
      this.decide(a.status, desired, { alert: a.status === 'firing' });
    }
  }

  /** Stops deciding; resolves once the move in progress is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.applying;
  }

  private currentTarget(): number {
    return this.wanted ?? this.o.actuator.target;
  }

  /**
   * Each gateway's calls-in-flight seconds, on that gateway's own clock (read
   * in the same scrape): the concurrency over a window is then exact however
   * late this process gets to the answer. Several gateways: the sum of their
   * concurrencies, each over its own window.
   */
  private async tick(): Promise<void> {
    let readings: Array<{ busy: number; clock: number }>;
    try {
      const texts = await Promise.all(this.o.metricsUrls.map(async (u) => (await fetch(u, { signal: AbortSignal.timeout(5000) })).text()));
      readings = texts.map((t) => ({
        busy: metricSum(t, 'faasbench_gateway_calls_in_flight_seconds_total') ?? NaN,
        clock: metricSum(t, 'faasbench_gateway_monotonic_seconds') ?? NaN,
      }));
      if (readings.some((r) => !Number.isFinite(r.busy + r.clock))) throw new Error('a gateway serves no faasbench_gateway_calls_in_flight_seconds_total');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'scaler: cannot read the gateways\' metrics; no decision this tick');
      return;
    }
    if (this.stopped) return;
    const ms = performance.now() - this.t0;
    for (const [i, r] of readings.entries()) this.deciders[i]!.observe(r.clock * 1000, r.busy);
    const d = this.decideAll(ms);
    if (d) this.decide('tick', d.desired, { stable: round(d.stable), panic: round(d.panic), panicking: d.panicking });
  }

  /** The gateways' windows summed, then one decision (the first decider keeps the panic state). */
  private decideAll(ms: number): ReturnType<KnativeDecider['decide']> {
    const means = this.deciders.map((k) => k.means());
    if (means.some((m) => m === null)) return null;
    const stable = means.reduce((s, m) => s + m!.stable, 0);
    const panic = means.reduce((s, m) => s + m!.panic, 0);
    return this.deciders[0]!.decideOn(ms, stable, panic, this.o.actuator.ready);
  }

  private decide(reason: string, desired: number, values: Record<string, number | boolean>): void {
    if (this.stopped) return;
    const current = this.currentTarget();
    this.o.onDecision?.({ ms: performance.now() - this.t0, policy: this.o.policy, reason, current, desired, values });
    if (desired === current && this.wanted !== null) return;
    this.wanted = desired;
    // Cleared in a later turn: apply() may return at once, before this assignment.
    this.applying ??= this.apply().finally(() => (this.applying = null));
  }

  /** One move at a time; a decision made meanwhile is the next move. */
  private async apply(): Promise<void> {
    try {
      while (this.wanted !== null && this.wanted !== this.o.actuator.target) {
        const n = this.wanted;
        this.o.logger.info({ policy: this.o.policy, from: this.o.actuator.target, to: n }, 'scaler: scaling');
        await this.o.actuator.scaleTo(n);
      }
    } catch (err) {
      this.o.logger.error({ err }, 'scaler: a move failed');
    }
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
