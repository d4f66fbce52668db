/** The report's views of the run over time and of the latency tail: the timeline, the utilisation, the percentile spectrum. */
import { SPECTRUM, spectrumKey, type CellSummary } from '../../compute/cells.js';
import { renderSvg, spectrumSpec, timelineSpec, utilisationSpec, type TimelineRow } from './charts.js';
import { esc, table, type Column } from './html.js';
import { fmtInt, fmtUs } from '../../compute/format.js';
import type { Summary } from '../../compute/summary-types.js';
import type { Timeline } from '../../compute/timeline.js';

const LATENCY_FROM =
  'Latency is from the due time (t6 − t0_intended) in open-loop cells, so a stalled sender cannot hide a stall (wrk2\'s rule), and from the send (t6 − t0) in closed-loop cells.';

export function latencyNote(cells: readonly CellSummary[]): string {
  const open = cells.filter((c) => c.open_loop).length;
  return open === 0 ? 'All cells ran closed loop: latency is t6 − t0.' : `${open} of ${cells.length} cells ran open loop. ${LATENCY_FROM}`;
}

/** The per-second rows of every cell; a cell's line is cut where it paused (a new segment), so no line bridges other cells' time. */
export function timelineRows(timeline: Timeline): TimelineRow[] {
  const rows: TimelineRow[] = [];
  for (const c of timeline.cells) {
    let segment = 0;
    let last = -Infinity;
    for (const p of c.points) {
      if (p.t_s > last + timeline.bin_s) segment++;
      const series = `${c.framework} ${c.endpoint} ${c.connections} ${segment}`;
      rows.push({ framework: c.framework, endpoint: c.endpoint, series, t_s: p.t_s, responses: p.responses / timeline.bin_s, errors: p.errors / timeline.bin_s, p50: p.p50_us, p99: p.p99_us });
      last = p.t_s;
    }
  }
  return rows;
}

export async function timelineSection(s: Summary): Promise<string> {
  const tl = s.timeline;
  if (!tl || tl.cells.length === 0) return '';
  const spec = timelineSpec(timelineRows(tl));
  const start = tl.origin.wall_ms === null ? '' : ` The first request left at ${esc(new Date(tl.origin.wall_ms).toISOString())} (the caller's clock anchor).`;
  const other = tl.other_clock_requests > 0 ? ` ${fmtInt(tl.other_clock_requests)} requests of other caller hosts are not shown: their clocks cannot be set beside ${esc(tl.origin.host)}'s.` : '';
  type Row = Timeline['cells'][number];
  const sum = (c: Row, f: (p: Row['points'][number]) => number) => c.points.reduce((a, p) => a + f(p), 0);
  const cols: Column<Row>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'conns', cell: (c) => fmtInt(c.connections), num: true },
    { head: 'seconds', cell: (c) => fmtInt(c.points.length), num: true },
    { head: 'responses', cell: (c) => fmtInt(sum(c, (p) => p.responses)), num: true },
    { head: 'failures', cell: (c) => fmtInt(sum(c, (p) => p.errors)), num: true },
    { head: 'busiest second', cell: (c) => fmtInt(Math.max(...c.points.map((p) => p.responses))), num: true },
    { head: 'worst second p99 µs', cell: (c) => fmtUs(Math.max(...c.points.map((p) => p.p99_us ?? 0))), num: true },
  ];
  return `<section class="figure"><h2>Over time: responses, latency and failures per second</h2>
<p>Each second of the run on ${esc(tl.origin.host)}'s clock, counted when the request finished; a line per cell, broken where the cell paused
while others ran. ${esc(latencyNote(s.cells))}${start}${other}</p>
<div class="chart">${spec ? await renderSvg(spec) : '<p class="empty">No data for this figure.</p>'}</div>
<details><summary>Per cell</summary>${table(tl.cells, cols, 'Per-second figures of every cell: summary.json, timeline.cells.')}</details>
${await utilisationFigure(tl)}</section>`;
}

async function utilisationFigure(tl: Timeline): Promise<string> {
  if (tl.utilisation.length === 0) return '<p class="note">No saturation samples: no utilisation over time.</p>';
  const hosts = new Map<string, Set<string>>();
  for (const u of tl.utilisation) (hosts.get(u.role) ?? hosts.set(u.role, new Set()).get(u.role)!).add(u.host);
  const points = tl.utilisation.map((u) => ({
    series: `${u.role}${u.part ? ` ${u.part}` : ''}${(hosts.get(u.role)?.size ?? 0) > 1 ? ` @${u.host}` : ''}`,
    t_s: u.t_s,
    elu: u.elu,
    cpu_percent: u.cpu_percent,
    gc_max_pause_ms: u.gc_max_pause_ms,
  }));
  const spec = utilisationSpec(points);
  const unplaced = tl.unplaced_hosts.length ? ` Samples of ${tl.unplaced_hosts.map(esc).join(', ')} are left out: no clock offset places them on the caller's clock.` : '';
  return `<h3>Each process's load over the run</h3>
<p>From the samples each role writes about once a second, placed on the caller's clock by the estimated offsets: its event loop's busy share,
its CPU, and the longest pause its garbage collector made it take in each interval.${unplaced}</p>
<div class="chart">${spec ? await renderSvg(spec) : ''}</div>`;
}

export async function spectrumFigure(s: Summary): Promise<string> {
  const cells = s.cells.filter((c) => c.measured > 0);
  const spec = spectrumSpec(cells, SPECTRUM, (p) => spectrumKey(p as (typeof SPECTRUM)[number]));
  const cols: Column<CellSummary>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'conns', cell: (c) => fmtInt(c.connections), num: true },
    { head: 'load', cell: (c) => (c.open_loop ? 'open' : 'closed') },
    { head: 'n', cell: (c) => fmtInt(c.measured), num: true },
    ...SPECTRUM.map((p) => ({ head: `p${p}`, cell: (c: CellSummary) => fmtUs(c.latency_percentiles_us[spectrumKey(p)]), num: true })),
  ];
  return `<section class="figure"><h2>Figure 4b. Latency by percentile</h2>
<p>The tail that the box plots' whiskers (p1 to p99) hide: latency at the 50th, 90th, 99th, 99.9th and 99.99th percentile, per cell, both axes
logarithmic. A percentile beyond 1 − 1/n of a cell's n requests is its maximum. ${esc(latencyNote(cells))}</p>
<div class="chart">${spec ? await renderSvg(spec) : '<p class="empty">No data for this figure.</p>'}</div>
${table(cells, cols, 'Latency in µs; nearest-rank percentiles.')}</section>`;
}
