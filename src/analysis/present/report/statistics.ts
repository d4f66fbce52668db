/** The report's statistics section: how sure each cell's percentiles are, and whether its windows were steady. */
import type { CellSummary } from '../../compute/cells.js';
import type { PercentileInterval } from '../../../stats/quantile-interval.js';
import { fmtInt, fmtUs } from '../../compute/format.js';
import { esc, table, type Column } from './html.js';

const interval = (i: PercentileInterval | null) => (i === null ? '<span class="note">n/a</span>' : `${fmtUs(i.low)} – ${fmtUs(i.high)}`);
const steadyCell = (c: CellSummary) =>
  c.steady === null ? '<span class="note">too few to judge</span>' : c.steady ? 'yes' : `<strong>no</strong>: ${esc(c.not_steady.join('; '))}`;

export function statisticsSection(cells: readonly CellSummary[]): string {
  const measured = cells.filter((c) => c.measured > 0);
  if (measured.length === 0) return '';
  const unsteady = measured.filter((c) => c.steady === false);
  const judged = measured.filter((c) => c.steady !== null);
  const cols: Column<CellSummary>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'conns', cell: (c) => fmtInt(c.connections), num: true },
    { head: 'n', cell: (c) => fmtInt(c.measured), num: true },
    { head: 'n<sub>eff</sub>', cell: (c) => fmtInt(c.independence.n_eff), num: true, title: 'effective sample size: n over the integrated autocorrelation time, summed over the rounds' },
    { head: 'lag', cell: (c) => (c.independence.lag === null ? '–' : fmtInt(c.independence.lag)), num: true, title: 'the lag from which successive latencies are no longer correlated (|rank autocorrelation| < 0.1)' },
    { head: 'p50', cell: (c) => fmtUs(c.latency_percentiles_us.p50), num: true },
    { head: 'p50 95% interval', cell: (c) => interval(c.latency_ci_us.p50), num: true },
    { head: 'p99', cell: (c) => fmtUs(c.latency_percentiles_us.p99), num: true },
    { head: 'p99 95% interval', cell: (c) => interval(c.latency_ci_us.p99), num: true },
    { head: 'p99.9 95% interval', cell: (c) => interval(c.latency_ci_us.p99_9), num: true },
    { head: 'steady', cell: steadyCell, wrap: true },
  ];
  const lead =
    judged.length === 0
      ? `<p>No cell had enough requests to judge whether its window was steady.</p>`
      : unsteady.length === 0
        ? `<p>All ${judged.length} judged cells were steady: no material trend, level shift or warm-up transient in any round's window.</p>`
        : `<p><strong>${unsteady.length} of ${judged.length} judged cells were not steady</strong>: a figure of such a cell describes a system that was changing while it was measured, and a comparison that rests on one says so.</p>`;
  return `<section><h2>How sure are these figures?</h2>
${lead}
<p>Each percentile has a 95% interval from order statistics (distribution-free: the ranks the binomial gives, on the effective sample size, since
successive latencies are correlated: n<sub>eff</sub> is what the n requests are worth as independent draws). An interval is n/a where too few
effectively independent values bound it on both sides (p99.9 needs about 3,700). A round's window is steady when its batch medians show no trend
(Mann–Kendall), no level shift (Pettitt) and no warm-up transient (MSER-5), each significant at 1% and at least 10% of the median.</p>
${table(measured, cols, 'Latency in µs.')}</section>`;
}
