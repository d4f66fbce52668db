/**
 * The policies' parameters as a config writes them (the `scaling` section of
 * an experiment config, schemas/config.schema.json; `faasbench scaler
 * --config`): durations as text, every key optional, each defaulting to the
 * system the policy follows (policies.ts, knative.ts). `min` and `max` at
 * the top bound both policies that scale.
 */
import { checkConfigSchema, ConfigError, readConfigFile } from '../config-file.js';
import { parseDuration } from '../flags.js';
import { ALERT_DEFAULTS, FIXED_DEFAULTS, KNATIVE_DEFAULTS, type AlertParams, type FixedParams, type KnativeParams } from './policies.js';

export interface PolicySection {
  min?: number;
  max?: number;
  fixed?: { workers?: number };
  concurrency?: {
    target?: number;
    utilization?: number;
    stableWindow?: string;
    panicWindowPercent?: number;
    panicThresholdPercent?: number;
    maxScaleUpRate?: number;
    maxScaleDownRate?: number;
    tick?: string;
  };
  alert?: {
    factor?: number;
    expr?: string;
    for?: string;
    scrape?: string;
    evaluation?: string;
    groupWait?: string;
    groupInterval?: string;
    repeatInterval?: string;
  };
}

export interface PolicyParams {
  fixed: FixedParams;
  concurrency: KnativeParams;
  alert: AlertParams;
}

export function policyParams(s: PolicySection = {}): PolicyParams {
  const ms = (text: string | undefined, name: string, dflt: number) => (text === undefined ? dflt : parseDuration(text, name));
  const c = s.concurrency ?? {};
  const a = s.alert ?? {};
  const bounds = { ...(s.min === undefined ? {} : { min: s.min }), ...(s.max === undefined ? {} : { max: s.max }) };
  return {
    fixed: { workers: s.fixed?.workers ?? s.min ?? FIXED_DEFAULTS.workers },
    concurrency: {
      ...KNATIVE_DEFAULTS,
      ...bounds,
      target: c.target ?? KNATIVE_DEFAULTS.target,
      utilization: c.utilization ?? KNATIVE_DEFAULTS.utilization,
      stableWindowMs: ms(c.stableWindow, 'scaling.concurrency.stableWindow', KNATIVE_DEFAULTS.stableWindowMs),
      panicWindowPercent: c.panicWindowPercent ?? KNATIVE_DEFAULTS.panicWindowPercent,
      panicThresholdPercent: c.panicThresholdPercent ?? KNATIVE_DEFAULTS.panicThresholdPercent,
      maxScaleUpRate: c.maxScaleUpRate ?? KNATIVE_DEFAULTS.maxScaleUpRate,
      maxScaleDownRate: c.maxScaleDownRate ?? KNATIVE_DEFAULTS.maxScaleDownRate,
      tickMs: ms(c.tick, 'scaling.concurrency.tick', KNATIVE_DEFAULTS.tickMs),
    },
    alert: {
      ...ALERT_DEFAULTS,
      ...bounds,
      factor: a.factor ?? ALERT_DEFAULTS.factor,
      expr: a.expr ?? ALERT_DEFAULTS.expr,
      forMs: ms(a.for, 'scaling.alert.for', ALERT_DEFAULTS.forMs),
      scrapeMs: ms(a.scrape, 'scaling.alert.scrape', ALERT_DEFAULTS.scrapeMs),
      evaluationMs: ms(a.evaluation, 'scaling.alert.evaluation', ALERT_DEFAULTS.evaluationMs),
      groupWaitMs: ms(a.groupWait, 'scaling.alert.groupWait', ALERT_DEFAULTS.groupWaitMs),
      groupIntervalMs: ms(a.groupInterval, 'scaling.alert.groupInterval', ALERT_DEFAULTS.groupIntervalMs),
      repeatIntervalMs: ms(a.repeatInterval, 'scaling.alert.repeatInterval', ALERT_DEFAULTS.repeatIntervalMs),
    },
  };
}

/** What the schema cannot say of a `scaling` section; `where` names the file. */
export function checkPolicySection(s: PolicySection, where: string): void {
  if (s.min !== undefined && s.max !== undefined && s.min > s.max) throw new ConfigError(`${where}: scaling.min must not exceed scaling.max (${s.max})`);
}

/** `scaler --config FILE`: the experiment config checked against its schema, and its `scaling` section ({} when it has none). */
export async function readPolicySection(file: string): Promise<PolicySection> {
  const raw = await readConfigFile(file);
  checkConfigSchema(raw, file);
  const section = (raw as { scaling?: PolicySection }).scaling ?? {};
  checkPolicySection(section, file);
  return section;
}
