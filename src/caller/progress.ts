/**
 * Progress on stderr: one line per interval (about a second), as k6 and
 * autocannon show a run as it goes. Lines scroll rather than redraw, so they
 * stay readable in a log and give a time axis of the run:
 *
 *      3/12 s  measure   11834 req/s  p50 1.214 ms  p99 4.502 ms  errors 0  in flight 150
 *
 * req/s counts every request finished in the interval (failures too); p50 and
 * p99 are of the interval's answers; errors are socket errors and non-2xx
 * answers of the interval. Warm-up intervals are shown and marked as such.
 */
import type { CallerProgress } from './options.js';

export interface ProgressLine {
  update(p: CallerProgress): void;
}

const ms = (us: number | null) => (us === null ? '-' : `${(us / 1000).toFixed(3)} ms`);

/** The interval line of one report (without a newline). */
export function formatInterval(p: CallerProgress): string {
  const i = p.interval;
  const rate = i.seconds > 0 ? i.completed / i.seconds : 0;
  const secs = (p.elapsedMs / 1000).toFixed(0);
  const of = p.plannedMs === null ? '' : `/${(p.plannedMs / 1000).toFixed(0)}`;
  return (
    `${`${secs}${of} s`.padStart(9)}  ${p.phase.padEnd(7)}  ${rate.toFixed(0).padStart(7)} req/s` +
    `  p50 ${ms(i.p50Us)}  p99 ${ms(i.p99Us)}  errors ${i.errors}  in flight ${p.inFlight}`
  );
}

export function progressLine(stream: NodeJS.WritableStream, prefix = ''): ProgressLine {
  return {
    update(p) {
      stream.write(`${prefix}${formatInterval(p)}\n`);
    },
  };
}
