/** The report's statistics section: how sure each cell's percentiles are, and whether its windows were steady. */
import type { CellSummary } from '../../compute/cells.js';
import type { CallerCheckRow } from '../../compute/caller-checks.js';
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

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const withInterval = (v: number, i: PercentileInterval | null) => `${fmtUs(v)}${i === null ? '' : ` <span class="note">(${fmtUs(i.low)} – ${fmtUs(i.high)})</span>`}`;
const verdictCell = (v: 'ok' | 'warn' | 'fail') => (v === 'ok' ? 'ok' : `<strong>${v}</strong>`);

/** The arrival checks and probe streams of a `faasbench run` (run.json), one row per cell and round that had either. */
export function callerChecksSection(rows: readonly CallerCheckRow[]): string {
  if (rows.length === 0) return '';
  const arrivals = rows.filter((r) => r.arrivals !== null);
  const probes = rows.filter((r) => r.probe !== null);
  const missed = arrivals.filter((r) => r.arrivals!.verdict !== 'ok');
  const differ = probes.filter((r) => r.probe!.agreement.p50 === 'differ' || r.probe!.agreement.p99 === 'differ');
  const cellCols: Column<CallerCheckRow>[] = [
    { head: 'path', cell: (r) => esc(r.path) },
    { head: 'framework', cell: (r) => esc(r.framework) },
    { head: 'conns', cell: (r) => fmtInt(r.connections), num: true },
    { head: 'round', cell: (r) => fmtInt(r.round), num: true },
  ];
  const arrivalCols: Column<CallerCheckRow>[] = [
    ...cellCols,
    { head: 'arrivals', cell: (r) => esc(r.arrivals!.arrival + (r.arrivals!.seed === null ? '' : ` (seed ${r.arrivals!.seed})`)) },
    { head: 'due', cell: (r) => fmtInt(r.arrivals!.planned), num: true },
    { head: 'sent', cell: (r) => fmtInt(r.arrivals!.issued), num: true },
    { head: 'shortfall', cell: (r) => pct(r.arrivals!.shortfall), num: true, title: 'warn at 10%, fail at 20% (as vHive In-Vitro does)' },
    { head: 'rate', cell: (r) => verdictCell(r.arrivals!.rate) },
    {
      head: 'Poisson gaps',
      cell: (r) => {
        const p = r.arrivals!.poisson;
        if (p === null) return '<span class="note">–</span>';
        if (p.passed === null) return `<span class="note">not judged: ${fmtInt(p.tested)} gaps over ${p.floor_ms} ms</span>`;
        return `${p.passed ? 'pass' : '<strong>fail</strong>'}: A² ${(p.a2 ?? NaN).toFixed(3)} on ${fmtInt(p.tested)} gaps`;
      },
      wrap: true,
      title: "Anderson–Darling test that the gaps beyond the caller's own timing error are exponential; fails at 1%",
    },
  ];
  const probeCols: Column<CallerCheckRow>[] = [
    ...cellCols,
    { head: 'probe', cell: (r) => `${r.probe!.rate} req/s, ${fmtInt(r.probe!.connections)} conns`, title: 'the probe stream: its own connections beside the load' },
    { head: 'n', cell: (r) => fmtInt(r.probe!.requests), num: true },
    { head: 'load p50 (95%)', cell: (r) => withInterval(r.load_latency_us.p50, r.load_latency_ci_us.p50), num: true },
    { head: 'probe p50 (95%)', cell: (r) => withInterval(r.probe!.latency_us.p50, r.probe!.latency_ci_us.p50), num: true },
    { head: 'load p99 (95%)', cell: (r) => withInterval(r.load_latency_us.p99, r.load_latency_ci_us.p99), num: true },
    { head: 'probe p99 (95%)', cell: (r) => withInterval(r.probe!.latency_us.p99, r.probe!.latency_ci_us.p99), num: true },
    { head: 'verdict', cell: (r) => (r.probe!.agreement.p50 === 'differ' || r.probe!.agreement.p99 === 'differ' ? `<strong>${esc(r.probe!.agreement.summary)}</strong>` : esc(r.probe!.agreement.summary)), wrap: true },
  ];
  const parts: string[] = [];
  if (arrivals.length > 0) {
    parts.push(
      `<p>${missed.length === 0 ? `In all ${arrivals.length} open-loop cells the caller sent what it promised.` : `<strong>In ${missed.length} of ${arrivals.length} open-loop cells the caller did not send what it promised</strong>: their latency is not that of the planned load.`}
The caller counts the requests due in the measured window against those it sent (a shortfall of 10% warns, 20% fails and stops the cell) and, for Poisson arrivals, tests that the gaps between its sends are exponential.</p>
${table(arrivals, arrivalCols, 'Arrivals: what the open loop sent against its plan.')}`,
    );
  }
  if (probes.length > 0) {
    parts.push(
      `<p>${differ.length === 0 ? `In all ${probes.length} cells with a probe stream, its latency agrees with the load's or too few probes were sent to tell.` : `<strong>In ${differ.length} of ${probes.length} cells the probe's latency differs from the load's</strong>: the load's latency holds waits (in the caller's queue or on its path) that a lone request does not meet.`}
The probe sends a few requests a second on connections of its own; two figures agree when their 95% intervals overlap.</p>
${table(probes, probeCols, 'Probe stream beside the load; latency in µs.')}`,
    );
  }
  return `<section><h2>Did the caller load as planned?</h2>\n${parts.join('\n')}</section>`;
}
