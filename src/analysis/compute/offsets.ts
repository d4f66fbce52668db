/**
 * Clock offsets between hosts, estimated NTP-style from the four stamps
 * around each cross-host exchange (stages.ts has the formulas and their
 * signs). Informational only: no stage depends on them. Warm-up requests
 * are used too; the clocks do not care what a request was for.
 */
import { gatewayMinusCaller, workerMinusGateway } from './stages.js';
import { percentileOfSorted } from '../../stats/percentiles.js';
import { HAS_CALLER, HAS_GATEWAY, RequestTable } from '../read/table.js';
import { sortFloat64 } from './sort.js';

export interface ClockOffset {
  /** "worker − gateway" or "gateway − caller": the sign of every figure below. */
  clocks: 'worker − gateway' | 'gateway − caller';
  /** The host whose clock is subtracted, and the other one. */
  reference_host: string;
  host: string;
  /** Exchanges (requests) the estimate is based on. */
  n: number;
  /** All in ns. */
  median_ns: number;
  p5_ns: number;
  p25_ns: number;
  p75_ns: number;
  p95_ns: number;
  /** The estimate from the exchange with the shortest non-negative link time, and that time (NaN/Infinity: none). */
  min_rtt_ns: number;
  at_min_rtt_ns: number;
  /**
   * Causality bounds: the true offset is ≥ lower and ≤ upper for every
   * exchange; their intersection. lower > upper: a stamp was taken out of
   * order (see negative_link, reply_stamp_after_receipt) or, between hosts,
   * the clocks drifted.
   */
  lower_bound_ns: number;
  upper_bound_ns: number;
  /** Median offset in the last tenth of the run minus that of the first tenth, per second of reference clock, in ppm. */
  drift_ppm: number | null;
  /** Both ends on one host (same name): one monotonic clock, so the true offset is 0 and cannot drift. */
  same_host: boolean;
  /**
   * Exchanges whose own two bounds contradict: the far end's span (t5 − t1,
   * or t3_send − t3_recv) is longer than the near end's (t6 − t0, or t4 − t2),
   * i.e. a negative caller / RPC link. Each span is on one clock, so this is
   * a stamp taken late (or early), never clock offset or drift.
   */
  negative_link: Lateness;
  /**
   * Same host only (null otherwise): exchanges whose far-end reply stamp (t5,
   * or t3_send) is later than the near end's receipt of that reply (t6, or t4)
   * on their shared clock, and by how much.
   */
  reply_stamp_after_receipt: Lateness | null;
  /** Same host only: exchanges whose far-end arrival stamp (t1, or t3_recv) is earlier than the send (t0, or t2). */
  arrival_stamp_before_send: Lateness | null;
}

/** How often and by how much (ns) a stamp was out of causal order. */
export interface Lateness {
  count: number;
  median_ns: number;
  p99_ns: number;
  max_ns: number;
}

interface PairSamples {
  reference: number; // clock
  other: number; // clock
  referenceHost: string;
  host: string;
  offsets: Numbers;
  times: Numbers;
  minRtt: number;
  atMinRtt: number;
  lower: number;
  upper: number;
  /** By how much, per offending exchange (ns, positive). */
  negativeLink: Numbers;
  late: Numbers;
  early: Numbers;
}

/** A growing list of doubles: a JS array of 1.5 M numbers per clock pair cost a second in the collector. */
class Numbers {
  values = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.length++] = v;
  }

  /** A copy of the values. */
  copy(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

export function estimateOffsets(t: RequestTable): ClockOffset[] {
  const pairs = new Map<string, PairSamples>();
  const addressHost = workerHostsByAddress(t);
  const f = t.f64;
  const flags = t.u8.flags;
  const pair = (label: string, referenceClock: number, otherClock: number, referenceHost: string, host: string) => {
    let p = pairs.get(label);
    if (!p) {
      p = {
        reference: referenceClock, other: otherClock, referenceHost, host, offsets: new Numbers(), times: new Numbers(),
        minRtt: Infinity, atMinRtt: NaN, lower: -Infinity, upper: Infinity, negativeLink: new Numbers(), late: new Numbers(), early: new Numbers(),
      };
      pairs.set(label, p);
    }
    return p;
  };
  const workerPairs = new Map<number, Map<number, PairSamples>>();
  const callerPairs = new Map<number, PairSamples>();
  const shifts = new Map<number, number>();
  const shift = (other: number, reference: number) => {
    const key = other * 65536 + reference;
    let s = shifts.get(key);
    if (s === undefined) shifts.set(key, (s = t.clocks.baseDifference(other, reference)));
    return s;
  };
  for (let i = 0; i < t.size; i++) {
    const fl = flags[i]!;
    if (!(fl & HAS_GATEWAY)) continue;
    const g = t.u16.gatewayClock[i]!;
    const gHost = t.clockHost[g]!;
    const t1 = f.t1[i]!, t2 = f.t2[i]!, t4 = f.t4[i]!, t5 = f.t5[i]!;
    const r = f.t3_recv[i]!, s = f.t3_send[i]!;
    if (t2 === t2 && t4 === t4 && r === r && s === s) {
      const w = t.u16.t3Clock[i]!;
      const workerHost = t.u16.workerHost[i]!;
      const address = t.u16.workerAddress[i]!;
      // Pair of this request's clocks and worker names, looked up by number: a label string per request was 6 M strings of garbage.
      const key = (g * 65536 + w) * 65536 + workerHost;
      let byAddress = workerPairs.get(key);
      if (!byAddress) workerPairs.set(key, (byAddress = new Map()));
      let p = byAddress.get(address);
      if (!p) {
        const host = t.hosts.value(workerHost) ?? addressHost.get(address) ?? t.clockHost[w]!;
        byAddress.set(address, (p = pair(`w ${gHost} ${host}`, g, w, gHost, host)));
      }
      // Absolute worker stamp = its base + relative; fold the bases' difference into the estimate.
      const base = shift(w, g);
      add(p, base + workerMinusGateway(t2, r, s, t4), t4 - t2 - (s - r), base + (s - t4), base + (r - t2), t2);
    }
    const t0 = f.t0[i]!, t6 = f.t6[i]!;
    if (fl & HAS_CALLER && t0 === t0 && t6 === t6 && t1 === t1 && t5 === t5) {
      const c = t.u16.callerClock[i]!;
      const base = shift(g, c);
      let p = callerPairs.get(c * 65536 + g);
      if (!p) callerPairs.set(c * 65536 + g, (p = pair(`c ${t.clockHost[c]} ${gHost}`, c, g, t.clockHost[c]!, gHost)));
      add(p, base + gatewayMinusCaller(t0, t1, t5, t6), t6 - t0 - (t5 - t1), base + (t5 - t6), base + (t1 - t0), t0);
    }
  }
  return [...pairs.entries()].map(([label, p]) => summarise(p, label.startsWith('w') ? 'worker − gateway' : 'gateway − caller'));
}

/**
 * One exchange: its offset estimate, link time (rtt), and the bounds it puts
 * on the offset: far reply stamp − near receipt ≤ offset ≤ far arrival − near send.
 */
function add(p: PairSamples, offset: number, rtt: number, lower: number, upper: number, time: number) {
  p.offsets.push(offset);
  p.times.push(time);
  // An exchange with a negative link time has stamps out of order: no estimate to prefer.
  if (rtt >= 0 && rtt < p.minRtt) {
    p.minRtt = rtt;
    p.atMinRtt = offset;
  }
  if (rtt < 0) p.negativeLink.push(-rtt);
  if (p.referenceHost === p.host) {
    if (lower > 0) p.late.push(lower);
    if (upper < 0) p.early.push(-upper);
  }
  if (lower > p.lower) p.lower = lower;
  if (upper < p.upper) p.upper = upper;
}

function lateness(values: Numbers): Lateness {
  const sorted = sortFloat64(values.copy());
  const n = sorted.length;
  return {
    count: n,
    median_ns: percentileOfSorted(sorted, 50),
    p99_ns: percentileOfSorted(sorted, 99),
    max_ns: n ? sorted[n - 1]! : NaN,
  };
}

function summarise(p: PairSamples, clocks: ClockOffset['clocks']): ClockOffset {
  const sorted = sortFloat64(p.offsets.copy());
  const at = (q: number) => percentileOfSorted(sorted, q);
  return {
    clocks,
    reference_host: p.referenceHost,
    host: p.host,
    n: sorted.length,
    median_ns: at(50),
    p5_ns: at(5),
    p25_ns: at(25),
    p75_ns: at(75),
    p95_ns: at(95),
    min_rtt_ns: p.minRtt,
    at_min_rtt_ns: p.atMinRtt,
    lower_bound_ns: p.lower,
    upper_bound_ns: p.upper,
    drift_ppm: drift(p),
    same_host: p.referenceHost === p.host,
    negative_link: lateness(p.negativeLink),
    reply_stamp_after_receipt: p.referenceHost === p.host ? lateness(p.late) : null,
    arrival_stamp_before_send: p.referenceHost === p.host ? lateness(p.early) : null,
  };
}

/** Robust drift: compares the medians of the first and last tenth of the run (by reference time). */
function drift(p: PairSamples): number | null {
  const n = p.times.length;
  if (n < 50) return null;
  const times = sortFloat64(p.times.copy());
  const early = percentileOfSorted(times, 10);
  const late = percentileOfSorted(times, 90);
  if (!(late > early)) return null;
  const t = p.times.values;
  const o = p.offsets.values;
  const first = new Numbers();
  const last = new Numbers();
  const firstTimes = new Numbers();
  const lastTimes = new Numbers();
  for (let k = 0; k < n; k++) {
    if (t[k]! <= early) {
      first.push(o[k]!);
      firstTimes.push(t[k]!);
    } else if (t[k]! >= late) {
      last.push(o[k]!);
      lastTimes.push(t[k]!);
    }
  }
  const med = (xs: Numbers) => percentileOfSorted(sortFloat64(xs.copy()), 50);
  return ((med(last) - med(first)) / (med(lastTimes) - med(firstTimes))) * 1e6;
}

/** Worker address (as the gateway names it) → worker host (as the worker names itself), learned from joined records. */
function workerHostsByAddress(t: RequestTable): Map<number, string> {
  const map = new Map<number, string>();
  for (let i = 0; i < t.size; i++) {
    const host = t.u16.workerHost[i]!;
    const address = t.u16.workerAddress[i]!;
    if (host !== 0 && address !== 0 && !map.has(address)) map.set(address, t.hosts.value(host)!);
  }
  return map;
}
