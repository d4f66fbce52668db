/**
 * Throughput from the caller's stamps: successful responses per second of
 * the time the group was being measured, i.e. the union, on each caller
 * clock, of its caller runs' spans: from a run's first send (for an open-loop
 * run its first due time) to its last response.
 *
 * Why runs' spans and not first-t0-to-last-t6: a run interleaves frameworks
 * (A B C A B C …), so one group's requests come in several caller runs with
 * other groups' runs between them. Why not the time with a request in flight:
 * an open loop at a rate below capacity has idle gaps between requests, which
 * are part of the measured time (300/s sent read 513/s that way). Each caller
 * clock is unioned separately (stamps of different hosts cannot be compared)
 * and the rates are added, i.e. several callers are assumed to have run at the
 * same time.
 */
import type { RequestTable } from '../read/table.js';

export interface Throughput {
  count: number;
  /** Seconds the group was being measured: the union of its caller runs' spans (summed over callers). */
  busy_s: number;
  requests_per_s: number;
}

/** `runOf`: each slot's caller run (callerRuns()); −1 counts the request's own [t0, t6] as its span. */
export function throughputOf(t: RequestTable, slots: ArrayLike<number>, runOf: Int32Array): Throughput {
  // Per caller clock, per run: [earliest start, latest end].
  const byClock = new Map<number, { count: number; spans: Map<number, [number, number]> }>();
  let own = -1;
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k]!;
    const clock = t.u16.callerClock[i]!;
    let c = byClock.get(clock);
    if (!c) byClock.set(clock, (c = { count: 0, spans: new Map() }));
    c.count++;
    const run = runOf[i]! >= 0 ? runOf[i]! : own--;
    const due = t.f64.t0_intended[i]!;
    const start = due === due ? Math.min(due, t.f64.t0[i]!) : t.f64.t0[i]!;
    const end = t.f64.t6[i]!;
    const span = c.spans.get(run);
    if (!span) c.spans.set(run, [start, end]);
    else {
      if (start < span[0]) span[0] = start;
      if (end > span[1]) span[1] = end;
    }
  }
  let rate = 0;
  let busy = 0;
  for (const { count, spans } of byClock.values()) {
    const starts = new Float64Array(spans.size);
    const ends = new Float64Array(spans.size);
    let k = 0;
    for (const [s, e] of spans.values()) {
      starts[k] = s;
      ends[k++] = e;
    }
    const seconds = busyTime(starts, ends) / 1e9;
    busy += seconds;
    if (seconds > 0) rate += count / seconds;
  }
  return { count: slots.length, busy_s: busy, requests_per_s: rate };
}

/**
 * Length of the union of intervals [starts[k], ends[k]] (sorts both in place).
 * The number in flight at time x is #starts ≤ x − #ends < x, so a merge of the
 * two sorted lists finds where it rises from and falls back to zero.
 */
export function busyTime(starts: Float64Array, ends: Float64Array): number {
  starts.sort();
  ends.sort();
  let inFlight = 0;
  let since = 0;
  let total = 0;
  let s = 0;
  let e = 0;
  while (s < starts.length) {
    if (e >= ends.length || starts[s]! <= ends[e]!) {
      if (inFlight++ === 0) since = starts[s]!;
      s++;
    } else {
      if (--inFlight === 0) total += ends[e]! - since;
      e++;
    }
  }
  // Every start is in: the rest are ends, and the last one closes the busy period.
  if (inFlight > 0) total += ends[ends.length - 1]! - since;
  return total;
}
