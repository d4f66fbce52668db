/**
 * What each cell's caller checked while it ran, from run.json (`faasbench
 * run` keeps its result per cell there): whether the open loop sent what it
 * promised (the rate against the plan, and for Poisson the Anderson–Darling
 * test of the gaps) and the probe stream's latency beside the load's. The
 * records cannot say this: a request due but never sent leaves no record.
 * Caller runs started by hand print the same checks in their own summary.
 */
import type { MedianTail, PercentileInterval } from '../../stats/quantile-interval.js';
import type { RunMeta } from '../read/inputs.js';

export type CheckVerdict = 'ok' | 'warn' | 'fail';
export type Agreement = 'agree' | 'differ' | 'cannot tell';

export interface CallerCheckRow {
  /** The run.json it came from. */
  run: string;
  framework: string;
  path: string;
  connections: number;
  round: number;
  load_latency_us: MedianTail<number>;
  load_latency_ci_us: MedianTail<PercentileInterval | null>;
  /** Open loop only. */
  arrivals: {
    arrival: string;
    seed: number | null;
    planned: number;
    issued: number;
    planned_rate: number;
    issued_rate: number;
    shortfall: number;
    rate: CheckVerdict;
    /** Poisson arrivals only; passed null: too few gaps to judge. */
    poisson: { gaps: number; tested: number; floor_ms: number; a2: number | null; rejected_at: number | null; passed: boolean | null } | null;
    verdict: CheckVerdict;
    stopped_early: boolean;
  } | null;
  probe: {
    url: string;
    rate: number;
    connections: number;
    requests: number;
    errors: number;
    latency_us: MedianTail<number>;
    latency_ci_us: MedianTail<PercentileInterval | null>;
    agreement: { p50: Agreement; p99: Agreement; summary: string };
  } | null;
}

type Loose = Record<string, unknown>;
const isObject = (x: unknown): x is Loose => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);
const interval = (x: unknown): PercentileInterval | null => (isObject(x) && typeof x.low === 'number' && typeof x.high === 'number' ? (x as unknown as PercentileInterval) : null);
/** A latency's p50 and p99 and their intervals, as run.json holds them (latencyUs, latencyCiUs). */
function medianTailOf(x: Loose): [MedianTail<number>, MedianTail<PercentileInterval | null>] {
  const lat = isObject(x.latencyUs) ? x.latencyUs : {};
  const ci = isObject(x.latencyCiUs) ? x.latencyCiUs : {};
  return [
    { p50: num(lat.p50), p99: num(lat.p99) },
    { p50: interval(ci.p50), p99: interval(ci.p99) },
  ];
}

/** Every run.json's callerChecks, in the order run.json lists them; entries of another shape are passed over. */
export function callerChecksOf(runs: readonly RunMeta[]): CallerCheckRow[] {
  const rows: CallerCheckRow[] = [];
  for (const run of runs) {
    const list = isObject(run.meta) ? run.meta.callerChecks : undefined;
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      if (!isObject(c) || typeof c.framework !== 'string' || typeof c.path !== 'string') continue;
      const [latency, intervals] = medianTailOf(c);
      rows.push({
        run: run.path,
        framework: c.framework,
        path: c.path,
        connections: num(c.connections),
        round: num(c.round),
        load_latency_us: latency,
        load_latency_ci_us: intervals,
        arrivals: isObject(c.arrivals) ? arrivalsOf(c.arrivals) : null,
        probe: isObject(c.probe) ? probeOf(c.probe) : null,
      });
    }
  }
  return rows;
}

function arrivalsOf(a: Loose): NonNullable<CallerCheckRow['arrivals']> {
  const p = isObject(a.poisson) ? a.poisson : null;
  return {
    arrival: String(a.arrival),
    seed: typeof a.seed === 'number' ? a.seed : null,
    planned: num(a.planned),
    issued: num(a.issued),
    planned_rate: num(a.plannedRate),
    issued_rate: num(a.issuedRate),
    shortfall: num(a.shortfall),
    rate: a.rate as CheckVerdict,
    poisson:
      p === null
        ? null
        : {
            gaps: num(p.gaps),
            tested: num(p.tested),
            floor_ms: num(p.floorMs),
            // NaN (not judged) reaches run.json as null.
            a2: typeof p.a2 === 'number' ? p.a2 : null,
            rejected_at: typeof p.rejectedAt === 'number' ? p.rejectedAt : null,
            passed: typeof p.passed === 'boolean' ? p.passed : null,
          },
    verdict: a.verdict as CheckVerdict,
    stopped_early: a.stoppedEarly === true,
  };
}

function probeOf(p: Loose): NonNullable<CallerCheckRow['probe']> {
  const [latency, intervals] = medianTailOf(p);
  const ag = isObject(p.agreement) ? p.agreement : {};
  return {
    url: String(p.url),
    rate: num(p.rate),
    connections: num(p.connections),
    requests: num(p.requests),
    errors: num(p.errorCount),
    latency_us: latency,
    latency_ci_us: intervals,
    agreement: { p50: (ag.p50 ?? 'cannot tell') as Agreement, p99: (ag.p99 ?? 'cannot tell') as Agreement, summary: String(ag.summary ?? '') },
  };
}

const cellName = (c: CallerCheckRow) => `${c.framework} ${c.path} c=${c.connections} round ${c.round}`;

/** Warnings: cells whose arrivals missed the plan, and probes that disagree with their load. */
export function callerCheckWarnings(rows: readonly CallerCheckRow[]): string[] {
  const w: string[] = [];
  const missed = rows.filter((r) => r.arrivals !== null && r.arrivals.verdict !== 'ok');
  if (missed.length > 0) {
    const shown = missed.slice(0, 3).map((r) => `${cellName(r)}: ${r.arrivals!.issued} of ${r.arrivals!.planned} due sent${r.arrivals!.poisson?.passed === false ? ', gaps not exponential' : ''} (${r.arrivals!.verdict})`);
    w.push(`The open loop did not send what it promised in ${missed.length} cell(s): their latency is not that of the planned load. ${shown.join('; ')}${missed.length > 3 ? '; …' : ''}.`);
  }
  const differ = rows.filter((r) => r.probe !== null && (r.probe.agreement.p50 === 'differ' || r.probe.agreement.p99 === 'differ'));
  if (differ.length > 0) {
    w.push(`The probe stream disagrees with the load in ${differ.length} cell(s): ${differ.slice(0, 3).map((r) => `${cellName(r)}: ${r.probe!.agreement.summary}`).join('; ')}${differ.length > 3 ? '; …' : ''}.`);
  }
  return w;
}
