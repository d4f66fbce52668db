/**
 * compose.html and compose.json: the composition experiments' own page,
 * written beside report.html by `faasbench run` (experiment: compose).
 * Figures: the overhead per hop against the chain length (or fan-out width,
 * or payload size) per mode; the waterfall of one chain per mode; the
 * critical path of a fan-out; the share of a cold chain booting ahead hides.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { fmtPct, fmtUs } from '../../compute/format.js';
import { COMPOSE_PLAN, coldHidden, medianTree, summarizeCells, waterfall, cellsOf, type ComposeCellSummary, type ComposePlanFile } from '../../compute/composition-cells.js';
import { joinTrees, type Rec } from '../../read/tree.js';
import { readRecordLines } from '../../read/record-lines.js';
import { renderSvg } from './charts.js';
import { REPORT_CSS } from './css.js';
import { esc, table } from './html.js';

async function records(file: string): Promise<Rec[]> {
  // Calls only: no samples or tracer lines.
  return (await readRecordLines(file)).filter((r) => r.type === undefined);
}

const SIZE_TITLE: Record<ComposePlanFile['shape'], string> = {
  chain: 'chain length (calls)',
  fanout: 'fan-out width (parallel calls)',
  payload: 'payload (bytes)',
  cold: 'chain length (different functions)',
};

const STAGE_COLORS = {
  domain: ['link', 'gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond'],
  range: ['#9ecae9', '#f58518', '#72b7b2', '#e45756', '#54a24b', '#b279a2', '#eeca3b'],
};

function overheadChart(plan: ComposePlanFile, cells: ComposeCellSummary[], connections: number): Promise<string> {
  const rows = cells
    .filter((c) => c.connections === connections && c.requests > 0)
    .flatMap((c) => [
      { size: c.size, us: c.overhead_per_hop_us.p50, variant: `${c.variant} p50` },
      { size: c.size, us: c.overhead_per_hop_us.p99, variant: `${c.variant} p99` },
    ]);
  return renderSvg({
    width: 560,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: SIZE_TITLE[plan.shape] },
      y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'composition overhead per hop (µs)' },
      color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', columns: 3, title: null } },
      strokeDash: { condition: { test: "indexof(datum.variant, 'p99') >= 0", value: [4, 3] }, value: [1, 0] },
    },
  } as TopLevelSpec);
}

function waterfallChart(rows: { hop: string; order: number; stage: string; from_us: number; to_us: number }[], title: string): Promise<string> {
  return renderSvg({
    width: 600,
    height: Math.max(60, 18 * (Math.max(0, ...rows.map((r) => r.order)) + 1)),
    title,
    data: { values: rows },
    mark: { type: 'bar', height: 12 },
    encoding: {
      y: { field: 'hop', type: 'nominal', sort: { field: 'order' }, title: null },
      x: { field: 'from_us', type: 'quantitative', title: 'µs from the coordinator\'s start' },
      x2: { field: 'to_us' },
      color: { field: 'stage', type: 'nominal', scale: STAGE_COLORS, legend: { orient: 'bottom', title: null } },
    },
  } as TopLevelSpec);
}

const cellTable = (cells: ComposeCellSummary[], plan: ComposePlanFile) =>
  table(cells, [
    { head: 'variant', cell: (c) => esc(c.variant) },
    { head: plan.shape === 'payload' ? 'bytes' : plan.shape === 'fanout' ? 'width' : 'length', cell: (c) => String(c.size), num: true },
    { head: 'conns', cell: (c) => String(c.connections), num: true },
    { head: 'requests', cell: (c) => String(c.requests), num: true },
    { head: 'errors', cell: (c) => String(c.errors), num: true },
    { head: 'roundtrip p50 µs', cell: (c) => fmtUs(c.roundtrip_us.p50), num: true },
    { head: 'whole composition p50 µs', cell: (c) => fmtUs(c.root_function_us.p50), num: true },
    { head: 'overhead / hop p50 µs', cell: (c) => fmtUs(c.overhead_per_hop_us.p50), num: true },
    { head: 'p99 µs', cell: (c) => fmtUs(c.overhead_per_hop_us.p99), num: true },
    { head: 'hop overhead p50 µs', cell: (c) => fmtUs(c.hop_overhead_us.p50), num: true },
    { head: 'end → next start p50 µs', cell: (c) => fmtUs(c.gap_us.p50), num: true },
    { head: 'critical path hops', cell: (c) => String(c.critical_path_hops), num: true },
    { head: 'parallelism', cell: (c) => (c.parallelism === c.parallelism ? c.parallelism.toFixed(1) : '–'), num: true },
  ]);

/** Writes compose.html and compose.json into `to` when the run in `dir` is a composition experiment; returns the page's path. */
export async function writeComposeReport(dir: string, to = dir): Promise<string | null> {
  const planText = await readFile(join(dir, COMPOSE_PLAN), 'utf8').catch(() => null);
  if (planText === null) return null;
  const plan = JSON.parse(planText) as ComposePlanFile;
  const files = await readdir(dir);
  const of = async (re: RegExp) => (await Promise.all(files.filter((f) => re.test(f)).map((f) => records(join(dir, f))))).flat();
  const trees = joinTrees(await of(/^worker.*\.ndjson(\.gz)?$/), await of(/^gateway.*\.ndjson(\.gz)?$/), await of(/^caller\.ndjson(\.gz)?$/));
  const cells = summarizeCells(plan, trees);
  const data: Record<string, unknown> = { experiment: 'compose', plan, cells };
  const sections: string[] = [];
  const counts = [...new Set(cells.map((c) => c.connections))].sort((a, b) => a - b);

  if (plan.shape !== 'cold') {
    const charts = await Promise.all(counts.map(async (n) => `<h3>${n} connection${n === 1 ? '' : 's'}</h3>${await overheadChart(plan, cells, n)}`));
    sections.push(`<section><h2>Composition overhead per hop</h2>
<p>Per request: the whole composition (the root's function stage) minus the functions of its hops, divided by the hops; p50 solid, p99 dashed.
Hop overhead: one hop as its caller saw it minus the callee's function. End → next start: from one step's function end to the next step's start (one host).</p>
${charts.join('\n')}
${cellTable(cells, plan)}</section>`);
  }

  // One chain's waterfall per variant: the median request of the largest size up to 8, at the fewest connections.
  const pick = plan.shape === 'cold' ? Math.max(...plan.sizes) : (plan.sizes.filter((n) => n <= 8).at(-1) ?? plan.sizes[0]!);
  const byCell = cellsOf(plan, trees);
  const falls: string[] = [];
  const fallData: Record<string, unknown> = {};
  for (const v of plan.variants) {
    const cell = [...byCell.values()].filter((c) => c.key.variant === v.label && c.key.size === pick).sort((a, b) => a.key.connections - b.key.connections)[0];
    const t = cell ? medianTree(cell.trees) : null;
    const rows = t ? waterfall(t) : null;
    if (!rows) continue;
    fallData[v.label] = { id: t!.id, rows };
    falls.push(await waterfallChart(rows, `${v.label}: ${esc(t!.id)}`));
  }
  data.waterfalls = fallData;
  if (falls.length) sections.push(`<section><h2>One request's hops (size ${pick}, the median request)</h2>${falls.join('\n')}</section>`);

  if (plan.shape === 'fanout') {
    const rows = cells.flatMap((c) => [
      { size: c.size, us: c.critical_path_us.p50, what: `${c.variant} c=${c.connections} critical path` },
      { size: c.size, us: c.root_function_us.p50, what: `${c.variant} c=${c.connections} whole fan-out` },
    ]);
    sections.push(`<section><h2>Fan-out: the critical path against the width</h2>
<p>The critical path is the longest chain of hops each made after the one before answered; for a fan-out and its fan-in it is one branch and the fan-in (2 hops) when the branches ran in parallel.</p>
${await renderSvg({ width: 560, height: 260, data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: SIZE_TITLE.fanout }, y: { field: 'us', type: 'quantitative', title: 'µs (p50)' }, color: { field: 'what', type: 'nominal', legend: { orient: 'bottom', columns: 2, title: null } } } } as TopLevelSpec)}</section>`);
  }

  if (plan.shape === 'cold') {
    const hidden = coldHidden(cells);
    data.cold = hidden;
    sections.push(`<section><h2>Cold chains: what booting ahead hides</h2>
<p>Hidden share: 1 − (chain with the policy − warm chain) / (cold chain without booting ahead − warm chain), medians of the whole chain (the root's function).
Exposed: of the instance starts the chain's calls waited for, the part after each call arrived.</p>
${await renderSvg({ width: 520, height: 240, data: { values: cells.map((c) => ({ size: c.size, us: c.root_function_us.p50, variant: c.variant })) }, mark: { type: 'line', point: true }, encoding: { x: { field: 'size', type: 'quantitative', title: SIZE_TITLE.cold }, y: { field: 'us', type: 'quantitative', title: 'whole chain p50 (µs)' }, color: { field: 'variant', type: 'nominal', legend: { orient: 'bottom', title: null } } } } as TopLevelSpec)}
${table(hidden, [
  { head: 'mode', cell: (h) => esc(h.mode) },
  { head: 'length', cell: (h) => String(h.size), num: true },
  { head: 'policy', cell: (h) => esc(h.policy) },
  { head: 'chain p50 µs', cell: (h) => fmtUs(h.policy_us), num: true },
  { head: 'warm µs', cell: (h) => fmtUs(h.warm_us), num: true },
  { head: 'cold, no boot-ahead µs', cell: (h) => fmtUs(h.none_us), num: true },
  { head: 'hidden', cell: (h) => fmtPct(h.hidden_share), num: true },
  { head: 'calls that waited for a start', cell: (h) => h.cold_hops.toFixed(1), num: true },
  { head: 'starts µs', cell: (h) => fmtUs(h.boot_us), num: true },
  { head: 'exposed µs', cell: (h) => fmtUs(h.exposed_us), num: true },
])}
${cellTable(cells, plan)}</section>`);
  }

  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faasbench composition experiment (${esc(plan.shape)})</title><style>${REPORT_CSS}</style></head>
<body><main><h1>faasbench: composition, ${esc(plan.shape)}</h1>
<p>${trees.length} requests joined into trees of nested calls; ${cells.reduce((a, c) => a + c.requests, 0)} measured with every hop complete.</p>
${sections.join('\n')}
</main></body></html>
`;
  const path = join(to, 'compose.html');
  await writeFile(path, page);
  await writeFile(join(to, 'compose.json'), `${JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  return path;
}
