/** What the reader must know before trusting the figures, and how they were made. */
import { fmtInt, fmtNs, fmtPct } from './format.js';
import type { ClockOffset, Lateness } from './offsets.js';
import { describeUnjoined } from '../read/join.js';
import type { Summary } from './summary-types.js';

export const METHOD: Summary['method'] = {
  percentiles:
    'Exact: every value is kept and sorted. Nearest rank: the p-th percentile of n values is the value at rank ceil(p/100·n), an observed value.',
  box: 'Box from the 25th to the 75th percentile, line at the median, whiskers from the 1st to the 99th percentile (not 1.5 IQR); nothing beyond is drawn. Log axis when every value in the chart is positive, linear otherwise.',
  shares:
    'A stage\'s share is Σ stage / Σ roundtrip over the cell\'s requests (time-weighted); the seven stages add up to the roundtrip exactly. "Median request" columns take each request\'s own share.',
  throughput:
    'Successful responses per second of the time the cell was measured: the union of its caller runs\' spans (first send, or first due time in an open loop, to last response) on each caller clock, so interleaved cells do not dilute each other and an open loop\'s idle gaps count.',
  bootstrap:
    'Difference of medians to the baseline framework, per endpoint: percentile bootstrap, full sample size, seeded PRNG. The median of a resample of sorted data is drawn exactly via a Beta order statistic, so no subsampling is needed. Significant: the 95% interval excludes 0.',
  offsets:
    'worker − gateway = ((t3_recv − t2) + (t3_send − t4)) / 2 and gateway − caller = ((t1 − t0) + (t5 − t6)) / 2 per request; causality bounds [t3_send − t4, t3_recv − t2] and [t5 − t6, t1 − t0]. Informational: no stage uses them. A request whose own bounds cross has a negative link time: a stamp out of order, not a clock matter. Two roles on one host (same name) share a clock, so there any reply stamped after its receipt (t5 > t6, t3_send > t4) is counted and sized as a late stamp.',
};

export function collectWarnings(s: Summary, baseline: string): string[] {
  const w: string[] = [];
  const r = s.records;
  const j = s.joins;
  const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  if (rejected > 0) w.push(`${rejected} line(s) could not be read and were skipped (see "What was read").`);
  if (r.by_role.caller === 0) w.push('No caller records: no request can join, so there is no roundtrip. Collect the caller\'s NDJSON output too.');
  if (r.by_role.gateway === 0 && j.caller_only > 0) {
    w.push('Caller records only: the figures hold the latency, throughput and failures the caller saw, but no stage inside the server. For the stages, run faasbench\'s gateway and worker and collect their --log files too.');
  } else if (r.by_role.gateway === 0) w.push('No gateway records: no request can join. Collect the gateway\'s --log file too.');
  if (r.by_role.worker === 0 && r.by_role.gateway > 0) {
    w.push('No worker records: the worker stamps come from the gateway\'s copy alone and could not be cross-checked.');
  }
  if (r.worker_copy_mismatch > 0) w.push(`${r.worker_copy_mismatch} worker record(s) disagree with the gateway's copy of their stamps.`);
  if (r.stamps_as_inexact_json_numbers > 0) {
    w.push(`${r.stamps_as_inexact_json_numbers} stamp(s) were JSON numbers above 2^53 and had already lost precision when written.`);
  }
  const unjoined = describeUnjoined(j);
  if (unjoined) w.push(`${unjoined} (see "What was read").`);
  const dupes = r.duplicates.caller + r.duplicates.gateway + r.duplicates.worker;
  if (dupes > 0) w.push(`${dupes} duplicate record(s): the same id twice for one role; the first was kept.`);
  if (j.measured === 0) w.push('No request made it into the figures.');
  const swept = sweptEndpoints(s);
  if (swept.length > 0) {
    const counts = [...new Set((s.sweep ?? []).filter((p) => swept.includes(p.endpoint)).map((p) => p.connections))].sort((a, b) => a - b);
    w.push(`On ${swept.join(', ')} the caller ran ${counts.length} connection counts (${counts.join(', ')}); Figures 4–11 pool them, Figures 3 and 3b separate them.`);
  }
  if (s.groups.some((g) => !g.caller_only) && !s.groups.some((g) => g.framework === baseline)) {
    w.push(`No records of the baseline framework "${baseline}": no comparison between frameworks.`);
  }
  for (const run of s.runs) {
    // docs/measurement.md: the caller must say when it was itself the bottleneck; run.json carries its verdict per cell.
    const bound = (run.meta as { callerBound?: unknown } | null)?.callerBound;
    if (Array.isArray(bound) && bound.length > 0) {
      const shown = bound.slice(0, 3).map(String).join('; ');
      w.push(
        `The caller was itself the bottleneck in ${bound.length} cell(s) of ${run.path}: their latencies and throughput describe the caller as much as the server. ` +
          `${shown}${bound.length > 3 ? '; …' : ''}.`,
      );
    }
  }
  const kernelSend = s.kernel !== null && s.kernel.stamps.found.k5 > 0;
  for (const o of s.clock_offsets) {
    const said = stampOrderWarnings(o);
    // With kernel stamps the stages end at the kernel's send instead of t5, which no receipt can precede.
    if (kernelSend && o.clocks === 'gateway − caller' && said.length > 0 && ((o.reply_stamp_after_receipt?.count ?? 0) > 0 || o.negative_link.count > 0)) {
      said[0] += ` With kernel stamps, respond and the caller link end at the kernel's send of the response (k5) instead of t5, ` +
        `so this lag is in neither (in the ${fmtInt(s.kernel!.stamps.found.k5)} requests whose send the kernel saw).`;
    }
    w.push(...said);
  }
  return w;
}

/** The stamps of each pair, by role in the exchange: near end sends and receives, far end arrives and replies. */
const PAIR_WORDS: Record<ClockOffset['clocks'], { near: string; far: string; send: string; arrival: string; reply: string; receipt: string; link: string; farSpan: string; nearSpan: string; why: string; early: string }> = {
  'gateway − caller': {
    near: 'caller',
    far: 'gateway',
    send: "t0 (request handed to the caller's socket)",
    arrival: 't1',
    reply: 't5 (response handed to the socket)',
    receipt: 't6 (whole response received)',
    link: 'caller link ((t6 − t0) − (t5 − t1))',
    farSpan: 't5 − t1',
    nearSpan: 't6 − t0',
    why:
      't5 is taken just after the last byte went to the kernel, so a caller on the same machine can read the whole response ' +
      'before it, when the gateway process is preempted between the write and the stamp on a busy machine. ' +
      'respond (t5 − t4) includes this lag and',
    early: 't0 is stamped when the write call returns, and the gateway can read the request before the caller gets that far.',
  },
  'worker − gateway': {
    near: 'gateway',
    far: 'worker',
    send: 't2 (call frame handed to the socket)',
    arrival: 't3_recv',
    reply: 't3_send (reply frame handed to the socket)',
    receipt: 't4 (reply decoded)',
    link: 'RPC link ((t4 − t2) − (t3_send − t3_recv))',
    farSpan: 't3_send − t3_recv',
    nearSpan: 't4 − t2',
    why: 't3_send is stamped when the write call returns, and the gateway can decode the reply before the worker gets that far. So worker out (t3_send − t3_end) includes this lag and',
    early: 't2 is stamped when the write call returns, and the worker can decode the call before the gateway gets that far.',
  },
};

const spread = (l: Lateness) => `${fmtNs(l.median_ns, false)} at the median, ${fmtNs(l.p99_ns, false)} at p99, ${fmtNs(l.max_ns, false)} at most`;
const share = (k: number, n: number) => `${fmtInt(k)} of ${fmtInt(n)} requests (${fmtPct(k / n)})`;

/**
 * Stamps out of causal order between two hosts, said for what they are. On
 * one host there is one clock: a reply stamped after its receipt is a stamp
 * taken late, not drift. Between hosts, a negative link time is also a late
 * stamp (each span is on one clock); only bounds that contradict across
 * requests, with every request consistent on its own, point at drift.
 */
export function stampOrderWarnings(o: ClockOffset): string[] {
  const w = PAIR_WORDS[o.clocks];
  const contradiction = o.lower_bound_ns - o.upper_bound_ns;
  const bounds = contradiction > 0 ? ` This is why the ${w.far} − ${w.near} causality bounds contradict each other by ${fmtNs(contradiction, false)}.` : '';
  const out: string[] = [];
  const negative = o.negative_link.count > 0 ? `negative in ${fmtInt(o.negative_link.count)} requests` : 'never negative';
  if (o.same_host) {
    const late = o.reply_stamp_after_receipt;
    const early = o.arrival_stamp_before_send;
    if (late && late.count > 0) {
      out.push(
        `In ${share(late.count, o.n)} the ${w.far} stamped ${w.reply} after the ${w.near} had its ${w.receipt}: by ${spread(late)}. ` +
          `${cap(w.near)} and ${w.far} share host "${o.host}", hence one clock: this is not drift. ${w.why} ${w.link} is short by it (${negative}); ` +
          `the roundtrip and the other stages are unaffected.${bounds}`,
      );
    }
    if (early && early.count > 0) {
      out.push(
        `In ${share(early.count, o.n)} the ${w.far}'s ${w.arrival} is earlier than the ${w.near}'s ${w.send}, by ${spread(early)}. ` +
          `${cap(w.near)} and ${w.far} share host "${o.host}", hence one clock: this is not drift. ${w.early}${late && late.count > 0 ? '' : bounds}`,
      );
    }
    return out;
  }
  if (o.negative_link.count > 0) {
    out.push(
      `${cap(w.far)} ${o.host} and ${w.near} ${o.reference_host}: in ${share(o.negative_link.count, o.n)} the ${w.far}'s own span ${w.farSpan} is longer ` +
        `than the ${w.near}'s ${w.nearSpan} (a negative ${w.link}), by ${spread(o.negative_link)}. Each span is on one clock, so this is not ` +
        `clock offset or drift but a stamp out of order. ${w.why.split('. ')[0]}.${bounds}`,
    );
  } else if (contradiction > 0) {
    out.push(
      `Clocks of ${o.host} and ${o.reference_host}: the causality bounds contradict each other by ${fmtNs(contradiction, false)} although ` +
        `every request is consistent on its own: the offset changed during the run (drift ${o.drift_ppm === null ? 'not estimated' : `${o.drift_ppm.toFixed(2)} ppm`}). Stages are unaffected.`,
    );
  }
  return out;
}

const cap = (x: string) => x.charAt(0).toUpperCase() + x.slice(1);

/** Endpoints on which some framework ran more than one connection count. */
export function sweptEndpoints(s: Summary): string[] {
  const seen = new Map<string, Set<number>>();
  for (const p of s.sweep ?? []) {
    const key = `${p.framework}\u0000${p.endpoint}`;
    let set = seen.get(key);
    if (!set) seen.set(key, (set = new Set()));
    set.add(p.connections);
  }
  const endpoints = new Set<string>();
  for (const [key, set] of seen) if (set.size > 1) endpoints.add(key.split('\u0000')[1]!);
  return [...endpoints];
}
