/** What the reader must know before trusting the figures, and how they were made. */
import { fmtNs } from './html.js';
import type { Summary } from './summary-types.js';
import type { RequestTable } from './table.js';

export const METHOD: Summary['method'] = {
  percentiles:
    'Exact: every value is kept and sorted. Nearest rank: the p-th percentile of n values is the value at rank ceil(p/100·n), an observed value.',
  box: 'Box from the 25th to the 75th percentile, line at the median, whiskers from the 1st to the 99th percentile (not 1.5 IQR); nothing beyond is drawn.',
  shares:
    'A stage\'s share is Σ stage / Σ roundtrip over the cell\'s requests (time-weighted); the seven stages add up to the roundtrip exactly. "Median request" columns take each request\'s own share.',
  throughput:
    'Successful responses per second of time during which the cell had at least one request in flight (union of its [t0, t6] intervals on each caller clock), so interleaved cells do not dilute each other.',
  bootstrap:
    'Difference of medians to the baseline framework, per endpoint: percentile bootstrap, full sample size, seeded PRNG. The median of a resample of sorted data is drawn exactly via a Beta order statistic, so no subsampling is needed. Significant: the 95% interval excludes 0.',
  offsets:
    'worker − gateway = ((t3_recv − t2) + (t3_send − t4)) / 2 and gateway − caller = ((t1 − t0) + (t5 − t6)) / 2 per request; causality bounds [t3_send − t4, t3_recv − t2] and [t5 − t6, t1 − t0]. Informational: no stage uses them.',
};

export function collectWarnings(s: Summary, t: RequestTable, baseline: string): string[] {
  const w: string[] = [];
  const r = s.records;
  const j = s.joins;
  const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  if (rejected > 0) w.push(`${rejected} line(s) could not be read and were skipped (see "What was read").`);
  if (r.by_role.caller === 0) w.push('No caller records: no request can join, so there is no roundtrip. Collect the caller\'s NDJSON output too.');
  if (r.by_role.gateway === 0) w.push('No gateway records: no request can join. Collect the gateway\'s --log file too.');
  if (r.by_role.worker === 0 && r.by_role.gateway > 0) {
    w.push('No worker records: the worker stamps come from the gateway\'s copy alone and could not be cross-checked.');
  }
  if (r.worker_copy_mismatch > 0) w.push(`${r.worker_copy_mismatch} worker record(s) disagree with the gateway's copy of their stamps.`);
  if (r.stamps_as_inexact_json_numbers > 0) {
    w.push(`${r.stamps_as_inexact_json_numbers} stamp(s) were JSON numbers above 2^53 and had already lost precision when written.`);
  }
  const unjoined = j.gateway_without_caller + (j.caller_without_gateway - j.caller_without_gateway_with_error) + j.worker_without_gateway;
  if (unjoined > 0) w.push(`${unjoined} record(s) did not join (counted under "What was read").`);
  const dupes = r.duplicates.caller + r.duplicates.gateway + r.duplicates.worker;
  if (dupes > 0) w.push(`${dupes} duplicate record(s): the same id twice for one role; the first was kept.`);
  if (j.measured === 0) w.push('No request made it into the figures.');
  const connections = new Set<number>();
  for (let i = 0; i < t.size; i++) if (t.u32.connections[i]) connections.add(t.u32.connections[i]!);
  if (connections.size > 1) {
    w.push(`The caller ran ${connections.size} connection counts (${[...connections].sort((a, b) => a - b).join(', ')}); Figures 4–9 pool them, Figure 3 separates them.`);
  }
  if (s.groups.length > 0 && !s.groups.some((g) => g.framework === baseline)) {
    w.push(`No records of the baseline framework "${baseline}": no comparison between frameworks.`);
  }
  for (const o of s.clock_offsets) {
    if (o.lower_bound_ns > o.upper_bound_ns) {
      w.push(
        `Clocks ${o.host} and ${o.reference_host}: the causality bounds contradict each other by ${fmtNs(o.lower_bound_ns - o.upper_bound_ns)}; ` +
          'the clocks drifted during the run or a stamp is wrong. Stages are unaffected.',
      );
    }
  }
  return w;
}
