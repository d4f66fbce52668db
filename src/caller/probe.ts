/**
 * The probe stream (mutilate's -Q, Lancet's latency agents): a few requests
 * a second, due evenly, on connections of their own beside the load. The
 * load's connections queue behind each other; the probe's do not, so where
 * the load's latency holds queueing in the caller (or on its path), the
 * probe's does not. Recorded with "probe":true; summarised apart.
 */
import { MAX_TIMER_MS } from '../flags.js';
import type { Stats } from '../stats/percentiles.js';
import type { PercentileInterval, PercentileIntervals } from '../stats/quantile-interval.js';
import { latencyFigures } from './figures.js';
import { LoadLoop } from './load-loop.js';
import { resolveOptions, type CallerOptions, type ResolvedOptions } from './options.js';
import { Tally } from './tally.js';
import { callerRecordFormatter } from '../trace/records.js';

export interface ProbeResult {
  url: string;
  rate: number;
  connections: number;
  requests: number;
  responses: number;
  errorCount: number;
  latencyUs: Stats;
  latencyCiUs: PercentileIntervals;
  /** Whether the load's p50 and p99 agree with the probe's: their intervals overlap (without intervals: differ by a factor of 2 or more). */
  agreement: { p50: Agreement; p99: Agreement; summary: string };
}

export type Agreement = 'agree' | 'differ' | 'cannot tell';

export interface Probe {
  loop: LoadLoop;
  tally: Tally;
  options: ResolvedOptions;
}

/** The probe's own options: the load's request, its own URL, rate and connections, due evenly. */
export function probeOf(load: ResolvedOptions, options: CallerOptions, onRecord: (line: string) => void): Probe | null {
  const p = load.probe;
  if (p === null) return null;
  const o = resolveOptions({
    ...options,
    url: p.urls,
    connections: p.connections,
    rate: p.rate,
    arrival: 'uniform',
    probe: undefined,
    untilCi: undefined,
    thresholds: [],
    requests: undefined,
    // It stops when the load stops (stop()), whatever ends the load.
    durationMs: load.durationMs ?? MAX_TIMER_MS,
    startAt: load.startAt ?? undefined,
  });
  const tally = new Tally();
  const format = callerRecordFormatter({ method: o.method, path: o.path, connections: o.connections, label: o.label, probe: true });
  const loop = new LoadLoop(o, (outcome) => {
    tally.add(outcome);
    onRecord(format(outcome));
  });
  return { loop, tally, options: o };
}

export function probeResult(probe: Probe, load: { latencyUs: Stats; latencyCiUs: PercentileIntervals }): ProbeResult {
  const t = probe.tally;
  const figures = latencyFigures(t.series, t.latency);
  const errorCount = Object.values(t.errors).reduce((a, b) => a + b, 0);
  const p50 = agreement(load.latencyCiUs.p50, figures.latencyCiUs.p50, load.latencyUs.p50, figures.latencyUs.p50);
  const p99 = agreement(load.latencyCiUs.p99, figures.latencyCiUs.p99, load.latencyUs.p99, figures.latencyUs.p99);
  const ratio = (key: 'p50' | 'p99') => load.latencyUs[key] / figures.latencyUs[key];
  let summary: string;
  if (p50 === 'agree' && p99 !== 'differ') summary = 'the probe agrees with the load';
  else if (p50 === 'cannot tell' && p99 === 'cannot tell') summary = 'too few probe requests to tell';
  else if (ratio('p50') > 1) summary = `they differ: the load's p50 is ${ratio('p50').toFixed(2)}× the probe's (p99 ${ratio('p99').toFixed(2)}×): the load's latency holds waits the probe's does not`;
  else summary = `they differ: the probe's p50 is ${(1 / ratio('p50')).toFixed(2)}× the load's (p99 ${(1 / ratio('p99')).toFixed(2)}×)`;
  return {
    url: probe.options.url.href,
    rate: probe.options.rate!,
    connections: probe.options.connections,
    requests: t.measuredRequests,
    responses: t.measuredResponses,
    errorCount,
    latencyUs: figures.latencyUs,
    latencyCiUs: figures.latencyCiUs,
    agreement: { p50, p99, summary },
  };
}

/** Intervals that overlap agree; without both intervals, only a factor of 2 either way counts as a difference. */
function agreement(a: PercentileInterval | null, b: PercentileInterval | null, pointA: number, pointB: number): Agreement {
  if (a !== null && b !== null) return a.low <= b.high && b.low <= a.high ? 'agree' : 'differ';
  const ratio = pointA / pointB;
  return ratio > DIFFER_BY || ratio < 1 / DIFFER_BY ? 'differ' : 'cannot tell';
}

const DIFFER_BY = 2;
