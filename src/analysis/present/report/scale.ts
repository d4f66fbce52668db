/**
 * The report's scale-out section: throughput and latency per worker count and
 * balancing policy (the replica experiment), each worker's and gateway's load
 * and whether the policy kept it even, and each caller's figures when several
 * ran. Absent when the run had one caller, one gateway host and one worker.
 */
import type { TopLevelSpec } from 'vega-lite';
import { fmtInt, fmtPct, fmtUs } from '../../compute/format.js';
import { byEndpoint } from '../../compute/order.js';
import type { ReplicaPoint, ScaleCell, ScaleSummary } from '../../compute/scale.js';
import { renderSvg } from './charts.js';
import { esc, table, type Column } from './html.js';

/** Busiest worker over the mean above this: the split is called uneven. */
const UNEVEN = 1.2;

const CELL_COLUMNS: Column<ScaleCell>[] = [
  { head: 'endpoint', cell: (c) => esc(c.endpoint) },
  { head: 'framework', cell: (c) => esc(c.framework) },
  { head: 'connections', cell: (c) => fmtInt(c.connections), num: true },
  { head: 'balance', cell: (c) => esc(c.balance) },
  { head: 'workers', cell: (c) => fmtInt(c.workers), num: true },
];

const LATENCY_COLUMNS: Column<{ measured: number; requests_per_s: number; p50_us: number; p99_us: number }>[] = [
  { head: 'requests', cell: (r) => fmtInt(r.measured), num: true },
  { head: 'req/s', cell: (r) => fmtInt(r.requests_per_s), num: true },
  { head: 'roundtrip p50 µs', cell: (r) => fmtUs(r.p50_us), num: true },
  { head: 'roundtrip p99 µs', cell: (r) => fmtUs(r.p99_us), num: true },
];

export async function scaleSection(s: ScaleSummary): Promise<string> {
  const settings = new Set(s.replicas.map((r) => `${r.balance} ${r.workers}`));
  const multiWorker = s.replicas.some((r) => r.workers_used > 1);
  const multiGateway = new Set(s.gateways.map((g) => g.host)).size > 1;
  if (settings.size < 2 && !multiWorker && !multiGateway && s.callers.length === 0) return '';
  const parts: string[] = ['<section class="figure"><h2>Scale-out: workers, gateways, callers</h2>'];
  if (settings.size > 1) {
    const spec = replicaSpec(s.replicas);
    parts.push(
      '<h3>Throughput and latency per worker count and policy</h3>',
      '<p>Each point is one cell run with that many workers behind each gateway and that <code>--balance</code> policy.</p>',
      `<div class="chart">${spec ? await renderSvg(spec) : ''}</div>`,
    );
  }
  parts.push(
    table(s.replicas, [
      ...CELL_COLUMNS,
      ...LATENCY_COLUMNS,
      { head: 'workers used', cell: (r) => fmtInt(r.workers_used), num: true },
      {
        head: 'busiest / mean',
        cell: (r) => (r.workers_used > 1 ? `${r.max_over_mean.toFixed(2)}${r.max_over_mean > UNEVEN ? ' <strong>uneven</strong>' : ''}` : '–'),
        num: true,
        title: `calls of the busiest worker over the mean per worker; above ${UNEVEN}: uneven`,
      },
    ], 'Per cell. Busiest / mean: 1.00 is an even split of the calls over the workers that served any.'),
  );
  if (multiWorker) {
    parts.push('<h3>Per worker</h3>', table(s.workers, [
      ...CELL_COLUMNS,
      { head: 'worker', cell: (w) => `<code>${esc(w.address)}</code>` },
      { head: 'share', cell: (w) => fmtPct(w.share), num: true },
      ...LATENCY_COLUMNS,
      { head: 'function mean µs', cell: (w) => fmtUs(w.function_mean_us), num: true },
      { head: 'worker queue mean µs', cell: (w) => fmtUs(w.worker_queue_mean_us), num: true },
    ], 'A slow or busy worker shows as a longer function or worker queue; a policy that noticed it gives it a smaller share.'));
  }
  if (multiGateway) {
    parts.push('<h3>Per gateway host</h3>', table(s.gateways, [
      ...CELL_COLUMNS,
      { head: 'gateway', cell: (g) => esc(g.host) },
      { head: 'share', cell: (g) => fmtPct(g.share), num: true },
      ...LATENCY_COLUMNS,
    ]));
  }
  if (s.callers.length > 0) {
    parts.push('<h3>Per caller</h3>', table(s.callers, [
      ...CELL_COLUMNS,
      { head: 'caller', cell: (c) => esc(c.host) },
      ...LATENCY_COLUMNS,
      {
        head: 'started after the first, ms',
        cell: (c) => (c.start_lag_ms === null ? '–' : `${c.start_lag_ms.toFixed(1)}${c.start_lag_ms > s.start_tolerance_ms ? ' <strong>late</strong>' : ''}`),
        num: true,
      },
    ], `The cell's throughput is the sum of these; its percentiles are over all their requests. A caller more than ${s.start_tolerance_ms} ms late is warned about.`));
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** Throughput and p99 against worker count, a line per policy and framework, a panel per endpoint. */
function replicaSpec(points: readonly ReplicaPoint[]): TopLevelSpec | null {
  const rows = points.filter((p) => p.workers > 0).map((p) => ({ ...p, series: `${p.framework} ${p.balance} c=${p.connections}` }));
  if (rows.length === 0) return null;
  const endpoints = [...new Set(rows.map((r) => r.endpoint))].sort(byEndpoint);
  // Ordinal: worker counts are whole steps, and only those that ran get a tick.
  const x = { field: 'workers', type: 'ordinal', title: 'workers', axis: { labelAngle: 0 } } as const;
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 400 }, scale: { scheme: 'tableau10' } } as const;
  return {
    data: { values: rows },
    config: { font: 'system-ui, sans-serif', view: { stroke: '#ddd' } },
    vconcat: [
      { y: 'requests_per_s', title: 'req/s' },
      { y: 'p99_us', title: 'roundtrip p99 µs' },
    ].map(({ y, title }) => ({
      facet: { column: { field: 'endpoint', type: 'nominal', sort: endpoints, title: null } },
      spec: {
        width: 260,
        height: 160,
        mark: { type: 'line', point: true },
        encoding: { x, y: { field: y, type: 'quantitative', title }, color },
      },
      resolve: { scale: { y: 'independent' } },
    })),
  } as TopLevelSpec;
}
