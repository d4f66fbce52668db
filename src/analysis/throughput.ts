/**
 * Throughput from the caller's stamps: successful responses per second of
 * time during which the group had at least one request in flight.
 *
 * Why "in flight" and not first-t0-to-last-t6: a run interleaves frameworks
 * (A B C A B C …), so one group's requests come in several windows with other
 * groups' windows between them. The union of its [t0, t6] intervals is exactly
 * the time it was being measured. Each caller clock is unioned separately
 * (stamps of different hosts cannot be compared) and the rates are added,
 * i.e. several callers are assumed to have run at the same time.
 */
import type { RequestTable } from './table.js';

export interface Throughput {
  count: number;
  /** Seconds with at least one request of the group in flight (summed over callers). */
  busy_s: number;
  requests_per_s: number;
}

export function throughputOf(t: RequestTable, slots: ArrayLike<number>): Throughput {
  const byClock = new Map<number, number[]>();
  for (let k = 0; k < slots.length; k++) {
    const i = slots[k]!;
    const clock = t.u16.callerClock[i]!;
    let list = byClock.get(clock);
    if (!list) byClock.set(clock, (list = []));
    list.push(i);
  }
  let rate = 0;
  let busy = 0;
  for (const list of byClock.values()) {
    const starts = new Float64Array(list.length);
    const ends = new Float64Array(list.length);
    list.forEach((i, k) => {
      starts[k] = t.f64.t0[i]!;
      ends[k] = t.f64.t6[i]!;
    });
    const seconds = busyTime(starts, ends) / 1e9;
    busy += seconds;
    if (seconds > 0) rate += list.length / seconds;
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
