/**
 * The scaling policies a scaler runs (scaler.ts), each beside the system it
 * follows, with that system's defaults:
 * - `fixed`: the baseline; the fleet stays at `workers`.
 * - `concurrency`: Knative's Pod Autoscaler over the gateways' calls in
 *   flight (knative.ts).
 * - `alert`: seed 003 and OpenFaaS: Prometheus scrapes the gateways, an
 *   alerting rule fires, Alertmanager's webhook calls the scaler, which
 *   steps the fleet up on "firing" and back to `min` on "resolved"
 *   (openfaasReplicas below; the rule and the timings in alerting.ts).
 */
import { KNATIVE_DEFAULTS, type KnativeParams } from './knative.js';

export const POLICIES = ['fixed', 'concurrency', 'alert'] as const;
export type PolicyName = (typeof POLICIES)[number];

export interface FixedParams {
  workers: number;
}

/** OpenFaaS's alert scaling (faas gateway/handlers/alerthandler.go, its alert.rules.yml, alertmanager.yml and prometheus.yml). */
export interface AlertParams {
  /** com.openfaas.scale.min: 1. */
  min: number;
  /** com.openfaas.scale.max: 20. */
  max: number;
  /** com.openfaas.scale.factor: 20 (% of max added per firing notification). */
  factor: number;
  /**
   * The alerting rule's expression. OpenFaaS's APIHighInvocationRate is
   * `sum(rate(gateway_function_invocation_total{code="200"}[10s])) BY (function_name) > 5`;
   * on faasbench's metrics that is the default here.
   */
  expr: string;
  /** The rule's `for:` 5s. */
  forMs: number;
  /** Prometheus's scrape of the gateways: 5s; its rule evaluation: 15s. */
  scrapeMs: number;
  evaluationMs: number;
  /** Alertmanager's route: group_wait 5s, group_interval 10s, repeat_interval 30s (a firing alert is notified again this often). */
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export const FIXED_DEFAULTS: FixedParams = { workers: 1 };

export const ALERT_DEFAULTS: AlertParams = {
  min: 1,
  max: 20,
  factor: 20,
  expr: 'sum(rate(faasbench_gateway_requests_total{status="200"}[10s])) > 5',
  forMs: 5000,
  scrapeMs: 5000,
  evaluationMs: 15_000,
  groupWaitMs: 5000,
  groupIntervalMs: 10_000,
  repeatIntervalMs: 30_000,
};

export { KNATIVE_DEFAULTS, type KnativeParams };

/**
 * OpenFaaS's CalculateReplicas: on "firing", add step = floor(max × factor /
 * 100) replicas (from one replica: go to `step`, as OpenFaaS does, so a
 * step of 1 never leaves one replica), at most max; on "resolved", and on
 * "firing" with a step of 0 (factor too small for max), back to min.
 */
export function openfaasReplicas(status: string, current: number, p: Pick<AlertParams, 'min' | 'max' | 'factor'>): number {
  const step = Math.floor((p.max / 100) * p.factor);
  if (status === 'firing' && step > 0) return current === 1 ? step : Math.min(current + step, p.max);
  return p.min;
}
