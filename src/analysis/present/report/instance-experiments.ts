/**
 * lifecycle.html: the instance experiments' own page (concurrency, backoff,
 * interference), written beside report.html by `faasbench analyze` (and so
 * by `faasbench run`) from the figures compute/instance-experiments.ts makes.
 * Figures: throughput, latency and instances per concurrency step; latency
 * against idle gap with the cold/warm split and the expiry threshold found;
 * the neighbours' latency before, during and after the faults; the
 * cold-start phases; instances over time.
 */
import type { TopLevelSpec } from 'vega-lite';
import { fmtInt, fmtPct, fmtUs } from '../../compute/format.js';
import type { ColdPhases, ConcurrencyStep, Lifecycle, LifecycleFigures } from '../../compute/instance-experiments.js';
import { renderSvg } from './charts.js';
import { REPORT_CSS } from './css.js';
import { esc, table } from './html.js';

const line = (values: object[], x: string, y: string, xTitle: string, yTitle: string, color?: string): TopLevelSpec =>
  ({
    width: 520,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle },
      y: { field: y, type: 'quantitative', title: yTitle },
      ...(color ? { color: { field: color, type: 'nominal', legend: { orient: 'bottom', title: null } } } : {}),
    },
  }) as TopLevelSpec;

function timelineChart(t: NonNullable<Lifecycle['neighbourTimeline']>): Promise<string> {
  const series = t.points.flatMap((p) => [
    { s: p.s, us: p.p50_us, what: 'neighbours p50' },
    { s: p.s, us: p.max_us, what: 'neighbours max' },
  ]);
  return renderSvg({
    width: 620,
    height: 240,
    layer: [
      ...(t.faults ? [{ data: { values: [t.faults] }, mark: { type: 'rect', opacity: 0.15, color: '#e45756' }, encoding: { x: { field: 'from_s', type: 'quantitative' }, x2: { field: 'to_s' } } }] : []),
      {
        data: { values: series },
        mark: { type: 'line' },
        encoding: {
          x: { field: 's', type: 'quantitative', title: 'time (s); shaded: the faults were running' },
          y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'roundtrip (µs)' },
          color: { field: 'what', type: 'nominal', legend: { orient: 'bottom', title: null } },
        },
      },
    ],
  } as TopLevelSpec);
}

/** The page of an instance experiment. */
export async function renderLifecycle(l: Lifecycle): Promise<string> {
  const f = l.figures;
  const sections: string[] = [];
  if (f.steps) sections.push(await concurrencySection(f.steps));
  if (f.gaps && f.threshold) sections.push(await backoffSection(f, l.backoffPoints));
  if (f.interference && l.neighbourTimeline) sections.push(await interferenceSection(f.interference, l.neighbourTimeline));
  if (f.cold_phases) sections.push(await coldSection(f.cold_phases));
  if (l.instancesOverTime.length > 1) {
    const series = l.instancesOverTime.flatMap((t) => [
      { s: t.s, v: t.instances, what: 'alive' },
      { s: t.s, v: t.busy, what: 'busy' },
    ]);
    sections.push(`<section><h2>Instances over time</h2>
${await renderSvg(line(series, 's', 'v', 'time (s)', 'instances', 'what'))}</section>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faasbench ${esc(f.experiment)} experiment</title><style>${REPORT_CSS}</style></head>
<body><main><h1>faasbench: ${esc(f.experiment)} experiment</h1>
${sections.join('\n')}
</main></body></html>
`;
}

async function concurrencySection(steps: ConcurrencyStep[]): Promise<string> {
  return `<section><h2>Concurrency: closed-loop callers 1…${steps.at(-1)?.connections ?? ''}</h2>
<p>Each step's measured requests (warm-up left out). Instances: distinct instances that served the step.</p>
${await renderSvg(line(steps.flatMap((s) => [{ connections: s.connections, v: s.requests_per_s, what: 'requests / s' }]), 'connections', 'v', 'callers', 'requests / s'))}
${await renderSvg(line(steps.flatMap((s) => [{ connections: s.connections, v: s.p50_us, what: 'p50' }, { connections: s.connections, v: s.p99_us, what: 'p99' }]), 'connections', 'v', 'callers', 'latency (µs)', 'what'))}
${await renderSvg(line(steps.map((s) => ({ connections: s.connections, v: s.instances })), 'connections', 'v', 'callers', 'instances in use'))}
${table(steps, [
  { head: 'callers', cell: (s) => String(s.connections), num: true },
  { head: 'requests', cell: (s) => fmtInt(s.requests), num: true },
  { head: 'req/s', cell: (s) => fmtInt(s.requests_per_s), num: true },
  { head: 'p50 µs', cell: (s) => fmtUs(s.p50_us), num: true },
  { head: 'p99 µs', cell: (s) => fmtUs(s.p99_us), num: true },
  { head: 'instances', cell: (s) => String(s.instances), num: true },
  { head: 'cold calls', cell: (s) => String(s.cold), num: true },
])}</section>`;
}

async function backoffSection(f: LifecycleFigures, points: Lifecycle['backoffPoints']): Promise<string> {
  const gaps = f.gaps!;
  const threshold = f.threshold!;
  const said =
    threshold.cold_from === null
      ? `Every gap up to ${esc(threshold.warm_below)} stayed warm: the keep-warm is longer than the largest gap.`
      : `Instances expired between an idle gap of ${esc(threshold.warm_below ?? '0')} (mostly warm) and ${esc(threshold.cold_from)} (mostly cold, and every longer gap too).`;
  return `<section><h2>Backoff: latency against the idle gap</h2>
<p><strong>${said}</strong></p>
${await renderSvg({
  width: 520,
  height: 240,
  data: { values: points },
  mark: { type: 'point', filled: true, size: 60 },
  encoding: {
    x: { field: 'gap_s', type: 'quantitative', scale: { type: 'log' }, title: 'idle gap before the call (s)' },
    y: { field: 'latency_us', type: 'quantitative', scale: { type: 'log' }, title: 'roundtrip (µs)' },
    color: { field: 'start', type: 'nominal', scale: { domain: ['warm', 'cold'], range: ['#4c78a8', '#e45756'] }, legend: { orient: 'bottom', title: null } },
  },
} as TopLevelSpec)}
${table(gaps, [
  { head: 'gap', cell: (g) => esc(g.gap) },
  { head: 'calls', cell: (g) => String(g.calls), num: true },
  { head: 'cold', cell: (g) => fmtPct(g.cold_fraction), num: true },
  { head: 'warm p50 µs', cell: (g) => fmtUs(g.warm_p50_us), num: true },
  { head: 'cold p50 µs', cell: (g) => fmtUs(g.cold_p50_us), num: true },
])}</section>`;
}

async function interferenceSection(r: NonNullable<LifecycleFigures['interference']>, timeline: NonNullable<Lifecycle['neighbourTimeline']>): Promise<string> {
  const contained = r.faults.every((f) => f.status >= 500) && r.phases[2]!.requests > 0 && r.phases.every((p) => p.errors === 0);
  return `<section><h2>Interference: neighbours of misbehaving calls</h2>
${await timelineChart(timeline)}
<p><strong>${contained ? 'Every fault was contained: each failed alone with its own error, and no neighbouring call failed before, during or after.' : 'Not every fault was contained: see the tables.'}</strong></p>
${table(r.phases, [
  { head: 'neighbours', cell: (p) => p.phase },
  { head: 'requests', cell: (p) => fmtInt(p.requests), num: true },
  { head: 'errors', cell: (p) => fmtInt(p.errors), num: true },
  { head: 'p50 µs', cell: (p) => fmtUs(p.p50_us), num: true },
  { head: 'p99 µs', cell: (p) => fmtUs(p.p99_us), num: true },
])}
${table(r.faults, [
  { head: 'fault', cell: (f) => esc(f.kind) },
  { head: 'status', cell: (f) => String(f.status), num: true },
  { head: 'error', cell: (f) => esc(f.error ?? '') },
  { head: 'answered after µs', cell: (f) => fmtUs(f.latency_us), num: true },
])}</section>`;
}

async function coldSection(phases: ColdPhases): Promise<string> {
  const rows = [
    ['waiting to spawn', phases.before_spawn_us],
    ['spawn → module loaded', phases.boot_and_load_us],
    ['init', phases.init_us],
    ['hand-over to the first call', phases.hand_over_us],
    ['the function', phases.function_us],
  ].map(([phase, us], order) => ({ phase: phase as string, us: us as number, order }));
  return `<section><h2>Cold starts: where the time goes</h2>
<p>Medians over ${phases.calls} cold calls; the phases lie inside the call's worker queue (t3_recv → t3_start).</p>
${await renderSvg({
  width: 520,
  height: 160,
  data: { values: rows },
  mark: 'bar',
  encoding: { y: { field: 'phase', type: 'nominal', sort: { field: 'order' }, title: null }, x: { field: 'us', type: 'quantitative', title: 'median (µs)' } },
} as TopLevelSpec)}
${table(rows, [
  { head: 'phase', cell: (r) => esc(r.phase) },
  { head: 'median µs', cell: (r) => fmtUs(r.us), num: true },
])}</section>`;
}
