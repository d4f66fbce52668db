/**
 * The one clock every role stamps with: integer nanoseconds of this host's
 * monotonic clock. Never wall time: wall clocks jump (NTP, leap smearing),
 * monotonic clocks do not. Stamps from different hosts are NOT comparable;
 * see docs/measurement.md and src/analysis for how cross-host stages are formed.
 */
export const now: () => bigint = process.hrtime.bigint;

/** A stamp as it is written in a record: a decimal string, exact beyond 2^53. */
export function stampText(stamp: bigint | undefined | null): string {
  return stamp == null ? 'null' : `"${stamp}"`;
}
