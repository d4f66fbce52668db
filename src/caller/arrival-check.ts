/**
 * Did the open loop send what it promised? Two checks, as the instruments
 * that check their load do:
 * - rate (vHive's In-Vitro loader): requests issued in the measured window
 *   against the requests due in it; a shortfall of 10% or more warns, 20%
 *   or more fails (and stops the run as soon as it is seen);
 * - Poisson (Lancet): the Anderson–Darling test that the gaps between the
 *   sends actually made are exponential. A send leaves when the caller's
 *   event loop gets to it: a timer tick (about 1 ms) late when idle, more
 *   when the loop is busy, and sends due within one tick leave together. So
 *   each gap is known only to about a tick: it is spread by a seeded normal
 *   error of SMOOTH_MS (which removes the ticks' lattice and keeps an
 *   exponential tail exponential, with the same rate), and the test reads
 *   only the gaps longer than the caller's own timing error, c = the larger
 *   of FLOOR_MS and the p99 of its send lag, plus 4 SMOOTH_MS, less c. If each
 *   send is late by less than that, independently of the schedule, a Poisson
 *   process's gaps seen so are, beyond c, exponential with its rate
 *   (P(X + D > y) ∝ e^{−λy} for y beyond the errors D), whereas evenly
 *   spaced sends are not. What happens within c (bursts of sends a
 *   millisecond apart) is beyond this test: the send lag and the late sends
 *   say how far the sends were from their due times. At most MAX_GAPS gaps
 *   are tested, taken evenly over the window.
 */
import normalRandom from '@stdlib/random-base-normal';
import { andersonDarlingExponential } from '../stats/anderson-darling.js';
import { seededRandom } from '../stats/random.js';

export const WARN_SHORTFALL = 0.1;
export const FAIL_SHORTFALL = 0.2;
export const FLOOR_MS = 2;
export const SMOOTH_MS = 1;
export const MAX_GAPS = 5000;
/** Fewer gaps than this: the Poisson test is not judged. */
export const MIN_GAPS = 20;
/** The level at which the Poisson test fails. */
export const POISSON_LEVEL = 0.01;
/** A failed arrival check (rate or Poisson): the caller's exit status. */
export const EXIT_ARRIVALS_FAILED = 98;

export type CheckVerdict = 'ok' | 'warn' | 'fail';

export interface PoissonCheck {
  /** Gaps between measured sends, and how many were tested (longer than the floor, thinned evenly). */
  gaps: number;
  tested: number;
  floorMs: number;
  /** A²(1 + 0.6/n) and the smallest tabled level rejecting exponentiality (null: not rejected at 15%). */
  a2: number;
  rejectedAt: number | null;
  /** null when too few gaps were tested. */
  passed: boolean | null;
}

export interface ArrivalCheck {
  arrival: string;
  seed: number | null;
  /** Requests due in the measured window, and sent in it. */
  planned: number;
  issued: number;
  plannedRate: number;
  issuedRate: number;
  /** 1 − issued / planned. */
  shortfall: number;
  rate: CheckVerdict;
  poisson: PoissonCheck | null;
  verdict: CheckVerdict;
  /** Set when the rate check stopped the run early. */
  stoppedEarly: boolean;
}

export function rateVerdict(planned: number, issued: number): { shortfall: number; verdict: CheckVerdict } {
  const shortfall = planned > 0 ? (planned - issued) / planned : 0;
  return { shortfall, verdict: shortfall >= FAIL_SHORTFALL ? 'fail' : shortfall >= WARN_SHORTFALL ? 'warn' : 'ok' };
}

/**
 * Keeps an evenly thinned sample of the gaps between sends longer than the
 * floor: when full, every second one is dropped and the stride doubles, so
 * any number of sends costs at most 2·MAX_GAPS numbers.
 */
export class GapSampler {
  gaps = 0;
  private last: bigint | null = null;
  private kept: number[] = [];
  private stride = 1;
  private seen = 0;

  add(t0: bigint): void {
    const last = this.last;
    this.last = t0;
    if (last === null) return;
    this.gaps++;
    const gap = Number(t0 - last);
    if (gap <= FLOOR_MS * 1e6) return; // below any floor the check uses
    if (this.seen++ % this.stride !== 0) return;
    this.kept.push(gap);
    if (this.kept.length >= 4 * MAX_GAPS) {
      this.kept = this.kept.filter((_, k) => k % 2 === 0);
      this.stride *= 2;
    }
  }

  /** `lagP99Ms`: the p99 of the measured sends' lag behind their due time. */
  check(lagP99Ms: number): PoissonCheck {
    const floorMs = Math.max(FLOOR_MS, lagP99Ms) + 4 * SMOOTH_MS;
    const floorNs = floorMs * 1e6;
    const error = normalRandom.factory({ prng: seededRandom(0x5eed) });
    let beyond = this.kept.map((g) => g + error(0, SMOOTH_MS * 1e6)).filter((g) => g > floorNs).map((g) => g - floorNs);
    if (beyond.length > MAX_GAPS) {
      const step = beyond.length / MAX_GAPS;
      beyond = Array.from({ length: MAX_GAPS }, (_, k) => beyond[Math.floor(k * step)]!);
    }
    const rounded = Math.round(floorMs * 1000) / 1000;
    if (beyond.length < MIN_GAPS) return { gaps: this.gaps, tested: beyond.length, floorMs: rounded, a2: NaN, rejectedAt: null, passed: null };
    const r = andersonDarlingExponential(beyond);
    return { gaps: this.gaps, tested: r.n, floorMs: rounded, a2: r.adjusted, rejectedAt: r.rejectedAt, passed: !(r.rejectedAt !== null && r.rejectedAt <= POISSON_LEVEL) };
  }
}

export function describeArrivalCheck(c: ArrivalCheck): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const parts = [
    `${c.arrival}${c.seed === null ? '' : ` (seed ${c.seed})`}: issued ${c.issued} of ${c.planned} due ` +
      `(${c.issuedRate.toFixed(1)} of ${c.plannedRate.toFixed(1)} req/s, shortfall ${pct(c.shortfall)}): ${c.rate}` +
      (c.stoppedEarly ? ', stopped early' : ''),
  ];
  const p = c.poisson;
  if (p !== null) {
    parts.push(
      p.passed === null
        ? `Poisson not judged: ${p.tested} gaps longer than the caller's timing error (${p.floorMs} ms)`
        : `Poisson gaps ${p.passed ? 'pass' : 'FAIL'}: Anderson–Darling A² ${p.a2.toFixed(3)} on ${p.tested} gaps over ${p.floorMs} ms ` +
            `(${p.rejectedAt === null ? 'not rejected at 15%' : `rejected at ${p.rejectedAt * 100}%`})`,
    );
  }
  return parts.join('; ');
}
