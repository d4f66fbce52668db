/**
 * The report's figures as vega-lite specs, rendered to SVG strings here in
 * Node (vega's headless "none" renderer needs no canvas), so report.html can
 * inline them and open offline. Charts receive precomputed box statistics,
 * never per-request rows: vega would choke on millions of points.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { CellSummary } from '../../compute/cells.js';
import { byEndpoint, byFramework } from '../../compute/order.js';
import { PARTS, STAGE_NAMES, type Part, type Stage } from '../../compute/stages.js';
import type { Answer } from '../../compute/summary-types.js';
import type { GroupSummary, SweepPoint } from '../../compute/summary-types.js';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11, gridColor: '#eee' },
  header: { labelFontSize: 13, labelFontWeight: 'bold', title: null },
  legend: { labelFontSize: 11, titleFontSize: 11 },
} as const;

/** Facet width so that up to four endpoints fit side by side in ~1150 px. */
function facetWidth(facets: number): number {
  return Math.max(160, Math.min(300, Math.floor(1080 / Math.max(1, facets)) - 20));
}

/** Axis labels for values in µs: "500 µs", "2 ms", "1.5 s". */
const US_LABEL =
  "datum.value >= 1e6 ? format(datum.value / 1e6, '~r') + ' s' : datum.value >= 1e3 ? format(datum.value / 1e3, '~r') + ' ms' : format(datum.value, '~r') + ' µs'";

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const sorted = (values: Iterable<string>, by: (a: string, b: string) => number) => [...new Set(values)].sort(by);

/** Figures 4–8: one box per framework, one panel per endpoint, each panel its own y scale. */
export function boxPlotSpec(groups: GroupSummary[], stage: Stage): TopLevelSpec | null {
  const rows = groups
    .filter((g) => g.box[stage])
    .map((g) => ({ framework: g.framework, endpoint: g.endpoint, ...g.box[stage]! }));
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  const endpoints = sorted(rows.map((r) => r.endpoint), byEndpoint);
  // Latency tails are long: on a linear axis a p99 whisker 20× the median squashes every box flat. A log axis
  // shows box and whiskers at once, wherever every value is positive (a link time can be ≤ 0 when a stamp lagged).
  const log = rows.every((r) => r.p1 > 0);
  const y = {
    type: 'quantitative',
    // Not nice: a log scale rounded out to powers of ten leaves a narrow spread as a flat line.
    scale: log ? { type: 'log', nice: false, padding: 10 } : { zero: false },
    axis: { labelExpr: US_LABEL, tickCount: 5 },
    title: log ? 'log scale' : null,
  } as const;
  return {
    ...endpointPanels(rows, endpoints, {
      encoding: {
        x: { field: 'framework', type: 'nominal', sort: frameworks, title: null, axis: { labelAngle: 0 } },
        color: { field: 'framework', type: 'nominal', sort: frameworks, legend: null, scale: { scheme: 'tableau10' } },
      },
      layer: [
        { mark: { type: 'rule' }, encoding: { y: { field: 'p1', ...y }, y2: { field: 'p99' } } },
        { mark: { type: 'bar', size: 22 }, encoding: { y: { field: 'q1', ...y }, y2: { field: 'q3' } } },
        // The shared colour encoding would paint the median in its box's colour, unseen: override it.
        { mark: { type: 'tick', size: 22, thickness: 2 }, encoding: { y: { field: 'median', ...y }, color: { value: '#111' } } },
      ],
    }),
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** One panel per endpoint, side by side, each with `spec` inside. */
function endpointPanels(rows: readonly object[], endpoints: readonly string[], spec: Record<string, unknown>) {
  return {
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'endpoint', type: 'nominal', sort: endpoints } },
    spec: { width: facetWidth(endpoints.length), height: 220, ...spec },
  };
}

export const PART_COLORS: Record<(typeof PARTS)[number], string> = {
  gateway_in: '#4c78a8',
  rpc_link: '#72b7b2',
  worker_queue: '#eeca3b',
  function: '#bab0ac',
  worker_out: '#b279a2',
  respond: '#e45756',
  caller_link: '#54a24b',
};

/** Figure 9: each stage's share of the roundtrip time, stacked to 100%. */
export function sharesSpec(groups: GroupSummary[]): TopLevelSpec | null {
  const rows = groups
    .filter((g) => g.measured > 0)
    .flatMap((g) => PARTS.map((part, order) => ({ framework: g.framework, endpoint: g.endpoint, stage: STAGE_NAMES[part], order, share: g.shares[part] })));
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  const endpoints = sorted(rows.map((r) => r.endpoint), byEndpoint);
  return endpointPanels(rows, endpoints, {
    mark: { type: 'bar', size: 26 },
    encoding: {
      x: { field: 'framework', type: 'nominal', sort: frameworks, title: null, axis: { labelAngle: 0 } },
      y: { field: 'share', type: 'quantitative', stack: 'zero', axis: { format: '%' }, title: 'share of roundtrip time', scale: { domain: [0, 1] } },
      color: {
        field: 'stage',
        type: 'nominal',
        sort: PARTS.map((p) => STAGE_NAMES[p]),
        scale: { domain: PARTS.map((p) => STAGE_NAMES[p]), range: PARTS.map((p) => PART_COLORS[p]) },
        legend: { orient: 'bottom', title: null, columns: 7 },
      },
      order: { field: 'order', type: 'quantitative', sort: 'ascending' },
    },
  }) as TopLevelSpec;
}

/** Figure 3: throughput against connections, one line per framework, a panel per endpoint swept. */
export function sweepSpec(points: SweepPoint[]): TopLevelSpec | null {
  const swept = new Set(
    sorted(points.map((p) => p.endpoint), byEndpoint).filter((e) => new Set(points.filter((p) => p.endpoint === e).map((p) => p.connections)).size > 1),
  );
  const rows = points.filter((p) => swept.has(p.endpoint));
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  return {
    config: CONFIG,
    data: { values: rows },
    facet: { column: { field: 'endpoint', type: 'nominal', sort: [...swept] } },
    spec: {
      width: facetWidth(swept.size),
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'connections', type: 'quantitative', title: 'concurrent connections' },
        y: { field: 'requests_per_s', type: 'quantitative', title: 'requests / s' },
        color: { field: 'framework', type: 'nominal', sort: frameworks, scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', title: null } },
      },
    },
  } as TopLevelSpec;
}

/**
 * The answer at a glance: one bar per endpoint, all frameworks pooled, the
 * roundtrip cut into its seven stages in the order a request meets them.
 * Segments are laid out here (x, x2) so each wide one can carry its label.
 */
export function answerSpec(rows: Answer['by_endpoint']): TopLevelSpec | null {
  if (rows.length === 0) return null;
  const segments = rows.flatMap((r) => {
    let at = 0;
    return PARTS.map((part: Part) => {
      const share = Math.max(0, r.shares[part]);
      const seg = { endpoint: r.endpoint, stage: STAGE_NAMES[part], x: at, x2: at + share, share, label: share >= 0.07 ? `${STAGE_NAMES[part]} ${Math.round(share * 100)}%` : '' };
      at += share;
      return seg;
    });
  });
  const y = { field: 'endpoint', type: 'nominal', sort: rows.map((r) => r.endpoint), title: null, axis: { labelFontSize: 13, labelFontWeight: 'bold' } } as const;
  const names = PARTS.map((p) => STAGE_NAMES[p]);
  return {
    config: CONFIG,
    width: 900,
    height: { step: 34 },
    data: { values: segments },
    layer: [
      {
        mark: { type: 'bar', height: 26 },
        encoding: {
          y,
          x: { field: 'x', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%', tickCount: 5 }, title: 'share of the roundtrip time' },
          x2: { field: 'x2' },
          color: {
            field: 'stage',
            type: 'nominal',
            sort: names,
            scale: { domain: names, range: PARTS.map((p) => PART_COLORS[p]) },
            legend: { orient: 'bottom', title: null, columns: 7, symbolType: 'square' },
          },
        },
      },
      {
        transform: [{ calculate: '(datum.x + datum.x2) / 2', as: 'mid' }],
        mark: { type: 'text', fontSize: 11.5, fontWeight: 'bold' },
        encoding: {
          y,
          x: { field: 'mid', type: 'quantitative' },
          text: { field: 'label' },
          // Dark text on the light segments (function, worker queue), white on the rest.
          color: { condition: { test: `datum.stage === '${STAGE_NAMES.function}' || datum.stage === '${STAGE_NAMES.worker_queue}'`, value: '#222' }, value: 'white' },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Figure 3b: where the time goes as load grows. One bar per connection count,
 * cut into the seven stages' shares of the mean roundtrip (means, because
 * they add up; the table beside it gives the absolute values), a panel per
 * framework, a row per swept endpoint.
 */
export function loadStagesSpec(cells: readonly CellSummary[]): TopLevelSpec | null {
  const rows = cells.flatMap((c) =>
    PARTS.map((part, order) => ({
      framework: c.framework,
      endpoint: c.endpoint,
      connections: c.connections,
      stage: STAGE_NAMES[part],
      order,
      share: Math.max(0, c.stage_mean_us[part]) / c.stage_mean_us.roundtrip,
    })),
  );
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  const endpoints = sorted(rows.map((r) => r.endpoint), byEndpoint);
  const names = PARTS.map((p) => STAGE_NAMES[p]);
  return {
    config: CONFIG,
    data: { values: rows },
    facet: {
      column: { field: 'framework', type: 'nominal', sort: frameworks },
      ...(endpoints.length > 1 ? { row: { field: 'endpoint', type: 'nominal', sort: endpoints } } : {}),
    },
    spec: {
      width: facetWidth(frameworks.length),
      height: 200,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'connections', type: 'ordinal', title: 'connections', axis: { labelAngle: 0 } },
        y: { field: 'share', type: 'quantitative', stack: 'zero', axis: { format: '%' }, title: 'share of the mean roundtrip', scale: { domain: [0, 1] } },
        color: {
          field: 'stage',
          type: 'nominal',
          sort: names,
          scale: { domain: names, range: PARTS.map((p) => PART_COLORS[p]) },
          legend: { orient: 'bottom', title: null, columns: 7 },
        },
        order: { field: 'order', type: 'quantitative', sort: 'ascending' },
      },
    },
  } as TopLevelSpec;
}

/** The spectrum's x: −log10(1 − p), so that each further nine of a percentile is one step right. */
export const ninesOf = (p: number): number => -Math.log10(1 - p / 100);
const NINES_LABEL = "datum.value < 0.5 ? '50%' : datum.value < 1.5 ? '90%' : datum.value < 2.5 ? '99%' : datum.value < 3.5 ? '99.9%' : '99.99%'";

/** Latency by percentile (HdrHistogram's plot): a panel per endpoint, a line per framework and connection count, log axes. */
export function spectrumSpec(cells: readonly CellSummary[], percentiles: readonly number[], key: (p: number) => string): TopLevelSpec | null {
  const mine = cells.filter((c) => c.measured > 0);
  const rows = mine.flatMap((c) =>
    percentiles.map((p) => ({
      framework: c.framework,
      endpoint: c.endpoint,
      connections: `${c.connections || '?'} conn.`,
      nines: ninesOf(p),
      latency: (c.latency_percentiles_us as Record<string, number>)[key(p)]!,
    })),
  ).filter((r) => r.latency > 0);
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  const endpoints = sorted(rows.map((r) => r.endpoint), byEndpoint);
  const several = new Set(rows.map((r) => r.connections)).size > 1;
  return endpointPanels(rows, endpoints, {
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'nines', type: 'quantitative', title: 'percentile',
        scale: { domain: [ninesOf(percentiles[0]!), ninesOf(percentiles.at(-1)!)] },
        axis: { values: percentiles.map(ninesOf), labelExpr: NINES_LABEL, labelOverlap: false, labelFontSize: 10 },
      },
      y: { field: 'latency', type: 'quantitative', scale: { type: 'log', nice: false, padding: 10 }, axis: { labelExpr: US_LABEL, tickCount: 5 }, title: 'latency, log scale' },
      color: { field: 'framework', type: 'nominal', sort: frameworks, scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', title: null } },
      ...(several ? { strokeDash: { field: 'connections', type: 'nominal', legend: { orient: 'bottom', title: null, symbolType: 'stroke', symbolStrokeColor: '#555', symbolStrokeWidth: 1.5 } }, detail: { field: 'connections' } } : {}),
    },
  }) as TopLevelSpec;
}

export interface TimelineRow {
  framework: string;
  endpoint: string;
  series: string;
  t_s: number;
  responses: number;
  errors: number;
  p50: number | null;
  p99: number | null;
}

/**
 * The run over time: responses, p50 and p99 latency, and failures per second,
 * one panel each over a shared time axis; a line per stretch of time a cell
 * ran (`series`), colour by framework, dash by endpoint.
 */
export function timelineSpec(rows: readonly TimelineRow[]): TopLevelSpec | null {
  if (rows.length === 0) return null;
  const frameworks = sorted(rows.map((r) => r.framework), byFramework);
  const endpoints = sorted(rows.map((r) => r.endpoint), byEndpoint);
  const x = { field: 't_s', type: 'quantitative', title: 's since the first request', scale: { domain: [0, Math.max(1, ...rows.map((r) => r.t_s + 1))] } } as const;
  const panel = (field: string, title: string, log: boolean) => ({
    width: 1000,
    height: 110,
    mark: { type: 'line', point: { size: 12 }, strokeWidth: 1.5 },
    encoding: {
      x,
      y: { field, type: 'quantitative', title, ...(log ? { scale: { type: 'log', nice: false }, axis: { labelExpr: US_LABEL, tickCount: 4 } } : { axis: { tickCount: 4 } }) },
      color: { field: 'framework', type: 'nominal', sort: frameworks, scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', title: null } },
      ...(endpoints.length > 1 ? { strokeDash: { field: 'endpoint', type: 'nominal', sort: endpoints, legend: { orient: 'bottom', title: null, symbolType: 'stroke', symbolStrokeColor: '#555', symbolStrokeWidth: 1.5 } } } : {}),
      detail: { field: 'series' },
    },
  });
  return {
    config: CONFIG,
    data: { values: rows },
    vconcat: [panel('responses', 'responses / s', false), panel('p50', 'p50 latency', true), panel('p99', 'p99 latency', true), panel('errors', 'failures / s', false)],
  } as unknown as TopLevelSpec;
}

/** Each role's event-loop utilisation, CPU and longest collector pause over the run, from its samples (the last where they have it). */
export function utilisationSpec(
  points: readonly { series: string; t_s: number; elu: number; cpu_percent: number; gc_max_pause_ms: number | null }[],
): TopLevelSpec | null {
  if (points.length === 0) return null;
  const panel = (field: string, title: string, format: string) => ({
    width: 1000,
    height: 110,
    mark: { type: 'line', point: { size: 10 }, strokeWidth: 1.2 },
    encoding: {
      x: { field: 't_s', type: 'quantitative', title: 's since the first request' },
      y: { field, type: 'quantitative', title, axis: { format, tickCount: 4 } },
      color: { field: 'series', type: 'nominal', scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', title: null, columns: 6 } },
    },
  });
  return {
    config: CONFIG,
    data: { values: points },
    vconcat: [
      panel('elu', 'event loop busy', '.0%'),
      panel('cpu_percent', 'CPU, % of a core', '~s'),
      ...(points.some((p) => p.gc_max_pause_ms !== null) ? [panel('gc_max_pause_ms', 'longest GC pause, ms', '~s')] : []),
    ],
  } as unknown as TopLevelSpec;
}
