/**
 * What the caller checks while it measures, and once it has: --until-ci's
 * precision, the open loop's arrivals (issued against due, live; Poisson
 * gaps at the end).
 */
import { now } from '../trace/clock.js';
import { FAIL_SHORTFALL, GapSampler, rateVerdict, WARN_SHORTFALL, type ArrivalCheck } from './arrival-check.js';
import type { LoadLoop } from './load-loop.js';
import type { ResolvedOptions } from './options.js';
import { achievedPrecision } from './precision.js';
import type { Tally } from './tally.js';

export interface Watch {
  warned: boolean;
  /** The rate check stopped the run. */
  stoppedEarly: boolean;
  /** --until-ci: seconds into the window when the precision was reached. */
  reachedAt: number | null;
}

/** How often the precision and the arrivals are checked while the window is measured. */
export const WATCH_MS = 250;
/** --until-ci judges no interval on fewer answers: below this, how correlated they are is hardly known. */
export const MIN_PRECISION_ANSWERS = 100;
/** The rate check judges no earlier than this far into the window, nor on fewer planned requests. */
const RATE_JUDGED_AFTER_MS = 2000;
const RATE_JUDGED_FROM = 20;

/** --until-ci and the live rate check; true when the window should end now. */
export function checkWhileRunning(
  o: ResolvedOptions,
  loop: LoadLoop,
  tally: Tally,
  watch: Watch,
  onWarning: ((message: string) => void) | undefined,
): boolean {
  const t = now();
  if (!loop.sending || t < loop.warmupEndNs) return false;
  const intoWindowMs = Number(t - loop.warmupEndNs) / 1e6;
  if (o.schedule !== null && intoWindowMs >= RATE_JUDGED_AFTER_MS) {
    const planned = loop.dueInWindow(t);
    const { shortfall } = rateVerdict(planned, loop.windowSends);
    if (planned >= RATE_JUDGED_FROM && shortfall >= WARN_SHORTFALL && !watch.warned) {
      watch.warned = true;
      onWarning?.(`issued ${loop.windowSends} of ${planned} requests due so far (${(shortfall * 100).toFixed(1)}% short; ${WARN_SHORTFALL * 100}% warns, ${FAIL_SHORTFALL * 100}% fails)`);
    }
    if (o.stopWhenBehind && planned >= RATE_JUDGED_FROM && shortfall >= FAIL_SHORTFALL) {
      watch.stoppedEarly = true;
      onWarning?.(`stopping: issued ${loop.windowSends} of ${planned} requests due (${(shortfall * 100).toFixed(1)}% short): the target cannot keep up with the planned rate`);
      return true;
    }
  }
  if (o.untilCi !== null && tally.measuredResponses >= MIN_PRECISION_ANSWERS) {
    const achieved = achievedPrecision(tally, o.untilCi.percentile);
    if (achieved !== null && achieved <= o.untilCi.precision) {
      watch.reachedAt = intoWindowMs / 1000;
      return true;
    }
  }
  return false;
}

export function arrivalCheck(o: ResolvedOptions, loop: LoadLoop, windowEnd: bigint, seconds: number, gaps: GapSampler | null, stoppedEarly: boolean): ArrivalCheck {
  const planned = loop.dueInWindow(windowEnd);
  const issued = loop.windowSends;
  const rate = rateVerdict(planned, issued);
  const poisson = gaps?.check(loop.sendLag.summary().p99 / 1000) ?? null;
  const verdict = rate.verdict === 'fail' || poisson?.passed === false ? 'fail' : rate.verdict;
  const arrival = o.arrival!.kind === 'trace' ? `${(o.arrival as { format: string }).format} trace` : o.arrival!.kind;
  return {
    arrival,
    seed: o.seed,
    planned,
    issued,
    plannedRate: seconds > 0 ? planned / seconds : 0,
    issuedRate: seconds > 0 ? issued / seconds : 0,
    shortfall: rate.shortfall,
    rate: rate.verdict,
    poisson,
    verdict,
    stoppedEarly,
  };
}

