/**
 * lifecycle.html: the instance experiments' own page (concurrency, backoff,
 * interference), written beside report.html by `faasbench run`. Figures:
 * throughput, latency and instances per concurrency step; latency against
 * idle gap with the cold/warm split and the expiry threshold found; the
 * neighbours' latency before, during and after the faults; the cold-start
 * phases; instances over time.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { parseDuration } from '../../../flags.js';
import { fmtInt, fmtPct, fmtUs } from '../../compute/format.js';
import {
  backoffGaps,
  backoffThreshold,
  coldPhases,
  concurrencySteps,
  instancesOverTime,
  interference,
  neighbourTimeline,
  type Rec,
} from '../../compute/instance-experiments.js';
import { renderSvg } from './charts.js';
import { REPORT_CSS } from './css.js';
import { esc, table } from './html.js';

async function ndjson(file: string): Promise<Rec[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const out: Rec[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as Rec);
    } catch {
      // A torn last line: the main analysis names it.
    }
  }
  return out;
}

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

function timelineChart(t: ReturnType<typeof neighbourTimeline>): Promise<string> {
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

/** Writes lifecycle.html and lifecycle.json when the run in `dir` is an instance experiment; returns the page's path. */
export async function writeLifecycleReport(dir: string): Promise<string | null> {
  const meta = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8').catch(() => '{}')) as { config?: { experiment?: string } };
  const experiment = meta.config?.experiment;
  if (experiment === undefined || experiment === 'frameworks' || experiment === 'compose') return null;
  const caller = (await ndjson(join(dir, 'caller.ndjson'))).filter((r) => r.type !== 'sample');
  const workerAll = await ndjson(join(dir, 'worker.ndjson'));
  const worker = workerAll.filter((r) => r.type !== 'sample');
  const workerById = new Map(worker.map((w) => [w.id as string, w]));
  const gatewayFiles = (await readdir(dir)).filter((f) => /^gateway-.*\.ndjson$/.test(f));
  const gateway = (await Promise.all(gatewayFiles.map((f) => ndjson(join(dir, f))))).flat().filter((r) => r.type !== 'sample');
  const sections: string[] = [];
  const data: Record<string, unknown> = { experiment };

  if (experiment === 'concurrency') {
    const steps = concurrencySteps(caller, workerById);
    data.steps = steps;
    sections.push(`<section><h2>Concurrency: closed-loop callers 1…${steps.at(-1)?.connections ?? ''}</h2>
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
])}</section>`);
  }
  if (experiment === 'backoff') {
    const gaps = backoffGaps(caller, workerById, (g) => parseDuration(g, 'gap'));
    const threshold = backoffThreshold(gaps);
    data.gaps = gaps;
    data.threshold = threshold;
    const points = caller
      .filter((c) => String(c.label ?? '').startsWith('gap '))
      .map((c) => ({
        gap_s: parseDuration(String(c.label).slice(4), 'gap') / 1000,
        latency_us: Number(BigInt(c.t6 as string) - BigInt(c.t0 as string)) / 1e3,
        start: workerById.get(c.id as string)?.cold === true ? 'cold' : 'warm',
      }));
    const said =
      threshold.cold_from === null
        ? `Every gap up to ${esc(threshold.warm_below)} stayed warm: the keep-warm is longer than the largest gap.`
        : `Instances expired between an idle gap of ${esc(threshold.warm_below ?? '0')} (mostly warm) and ${esc(threshold.cold_from)} (mostly cold, and every longer gap too).`;
    sections.push(`<section><h2>Backoff: latency against the idle gap</h2>
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
])}</section>`);
  }
  if (experiment === 'interference') {
    const r = interference(caller, new Map(gateway.map((g) => [g.id as string, g])));
    data.interference = r;
    const contained = r.faults.every((f) => f.status >= 500) && r.phases[2]!.requests > 0 && r.phases.every((p) => p.errors === 0);
    sections.push(`<section><h2>Interference: neighbours of misbehaving calls</h2>
${await timelineChart(neighbourTimeline(caller))}
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
])}</section>`);
  }
  const phases = coldPhases(worker);
  data.cold_phases = phases;
  if (phases) {
    const rows = [
      ['waiting to spawn', phases.before_spawn_us],
      ['spawn → module loaded', phases.boot_and_load_us],
      ['init', phases.init_us],
      ['hand-over to the first call', phases.hand_over_us],
      ['the function', phases.function_us],
    ].map(([phase, us], order) => ({ phase: phase as string, us: us as number, order }));
    sections.push(`<section><h2>Cold starts: where the time goes</h2>
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
])}</section>`);
  }
  const overTime = instancesOverTime(workerAll.filter((r) => r.type === 'sample'));
  if (overTime.length > 1) {
    sections.push(`<section><h2>Instances over time</h2>
${await renderSvg(line(overTime.flatMap((t) => [{ s: t.s, v: t.instances, what: 'alive' }, { s: t.s, v: t.busy, what: 'busy' }]), 's', 'v', 'time (s)', 'instances', 'what'))}</section>`);
  }
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faasbench ${esc(experiment)} experiment</title><style>${REPORT_CSS}</style></head>
<body><main><h1>faasbench: ${esc(experiment)} experiment</h1>
${sections.join('\n')}
</main></body></html>
`;
  const path = join(dir, 'lifecycle.html');
  await writeFile(path, page);
  await writeFile(join(dir, 'lifecycle.json'), `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
