/**
 * fleet.html and fleet.json: the fleet experiments' page (seed 003),
 * written beside report.html by `faasbench run`: for scaling, the workers,
 * latency, errors and cold starts over time under each policy and the time
 * each took to react; for failover, where the calls went around the kill
 * and what it cost; for grey, each balancing policy with and without
 * ejection; for a run stepping the worker count, throughput and failures
 * per count (seed 003's replicas figure).
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { failoverRun, greyRun, groupRuns, replicaRows, scalingRun, type FailoverRun, type GreyRun, type Rec, type ReplicaRow, type ScalingRun } from '../../compute/fleet-experiments.js';
import { readRecordLines } from '../../read/record-lines.js';
import { renderSvg } from './charts.js';
import { REPORT_CSS } from './css.js';
import { esc, table } from './html.js';


const f1 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(1));
const f2 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
const int = (x: number) => String(Math.round(x));

function overTime(values: object[], y: string, yTitle: string, opts: { log?: boolean; step?: boolean; shade?: { from_s: number; to_s: number } | null } = {}): TopLevelSpec {
  const shade = opts.shade ? [{ data: { values: [opts.shade] }, mark: { type: 'rect', opacity: 0.12, color: '#888' }, encoding: { x: { field: 'from_s', type: 'quantitative' }, x2: { field: 'to_s' } } }] : [];
  return {
    width: 620,
    height: 200,
    layer: [
      ...shade,
      {
        data: { values },
        mark: { type: 'line', interpolate: opts.step ? 'step-after' : 'linear', point: !opts.step },
        encoding: {
          x: { field: 't_s', type: 'quantitative', title: 'time (s); shaded: the step' },
          y: { field: y, type: 'quantitative', title: yTitle, ...(opts.log ? { scale: { type: 'log' } } : {}) },
          color: { field: 'run', type: 'nominal', legend: { orient: 'bottom', title: null } },
        },
      },
    ],
  } as TopLevelSpec;
}

async function scalingSection(runs: ScalingRun[]): Promise<string> {
  const shade = runs.find((r) => r.step)?.step ?? null;
  const active = runs.flatMap((r) => [...r.active.map((a) => ({ run: r.policy, t_s: a.t_s, workers: a.active })), { run: r.policy, t_s: r.phases.at(-1)!.to_s, workers: r.active.at(-1)?.active ?? 0 }]);
  const lat = runs.flatMap((r) => r.bins.filter((b) => b.p99_ms !== null).map((b) => ({ run: r.policy, t_s: b.t_s, p99: b.p99_ms })));
  const p50 = runs.flatMap((r) => r.bins.filter((b) => b.p50_ms !== null).map((b) => ({ run: r.policy, t_s: b.t_s, p50: b.p50_ms })));
  const inst = runs.flatMap((r) => r.bins.filter((b) => b.instances !== null).map((b) => ({ run: r.policy, t_s: b.t_s, instances: b.instances })));
  const rps = runs.flatMap((r) => r.bins.map((b) => ({ run: r.policy, t_s: b.t_s, responses: b.responses })));
  const bad = runs.flatMap((r) => r.bins.map((b) => ({ run: r.policy, t_s: b.t_s, errors: b.errors, cold: b.cold })));
  const step = shade ? `${shade.connections} connections from ${f1(shade.from_s)} s to ${f1(shade.to_s)} s` : 'no step';
  return `<section><h2>Scaling: a load step under each policy</h2>
<p>The phases: ${runs[0]!.phases.map((p) => `${p.connections} connections for ${f1(p.to_s - p.from_s)} s`).join(', then ')} (the step: ${esc(step)}). Time from each run's first phase; one point per second.</p>
${table(runs, [
  { head: 'policy', cell: (r) => esc(r.policy) },
  { head: 'decided s', cell: (r) => f2(r.reaction.decided_s), num: true },
  { head: 'worker up s', cell: (r) => f2(r.reaction.connected_s), num: true },
  { head: 'first call s', cell: (r) => f2(r.reaction.serving_s), num: true },
  { head: 'drain after s', cell: (r) => f2(r.reaction.drain_s), num: true },
  { head: 'step p50 ms', cell: (r) => f1(r.during_step.p50_ms), num: true },
  { head: 'step p99 ms', cell: (r) => f1(r.during_step.p99_ms), num: true },
  { head: 'step requests', cell: (r) => int(r.during_step.requests), num: true },
  { head: 'errors', cell: (r) => int(r.total.errors), num: true },
  { head: 'cold starts', cell: (r) => int(r.total.cold), num: true },
  { head: 'max workers', cell: (r) => int(r.total.max_active), num: true },
], 'Reaction, from the step up: the scaler decided to add; the first added worker connected to the gateway; it answered its first call. Drain: from the step down to the first worker draining.')}
<h3>Workers taking calls</h3>
${await renderSvg(overTime(active, 'workers', 'workers (gateway\'s active set)', { step: true, shade }))}
<h3>Latency</h3>
${await renderSvg(overTime(lat, 'p99', 'p99 (ms)', { log: true, shade }))}
${await renderSvg(overTime(p50, 'p50', 'p50 (ms)', { log: true, shade }))}
<h3>Throughput, instances, errors and cold starts</h3>
${await renderSvg(overTime(rps, 'responses', 'responses / s', { shade }))}
${inst.length ? await renderSvg(overTime(inst, 'instances', 'function instances alive', { step: true, shade })) : ''}
${await renderSvg(overTime(bad, 'cold', 'cold starts / s', { shade }))}
${await renderSvg(overTime(bad, 'errors', 'errors / s', { shade }))}
</section>`;
}

async function failoverSection(runs: FailoverRun[]): Promise<string> {
  const parts: string[] = [];
  for (const r of runs) {
    const flows = r.bins.flatMap((b) => Object.entries(b.by_worker).map(([worker, n]) => ({ t_s: b.t_s, worker: worker === r.victim ? `${worker} (${r.how === 'kill' ? 'killed' : 'frozen'})` : worker, calls: n })));
    parts.push(`<h3>${esc(r.label)}</h3>
${await renderSvg({
  width: 620,
  height: 200,
  layer: [
    { data: { values: flows }, mark: { type: 'area' }, encoding: { x: { field: 't_s', type: 'quantitative', title: `time (s); rule: the ${r.how} at ${f2(r.kill_s)} s` }, y: { field: 'calls', type: 'quantitative', stack: 'zero', title: 'calls sent per 250 ms' }, color: { field: 'worker', type: 'nominal', legend: { orient: 'bottom', title: null } } } },
    { data: { values: [{ t: r.kill_s }] }, mark: { type: 'rule', color: '#e45756' }, encoding: { x: { field: 't', type: 'quantitative' } } },
  ],
} as TopLevelSpec)}
${await renderSvg({
  width: 620,
  height: 160,
  layer: [
    { data: { values: r.bins.filter((b) => b.p99_ms !== null).map((b) => ({ t_s: b.t_s, p99: b.p99_ms })) }, mark: 'line', encoding: { x: { field: 't_s', type: 'quantitative', title: 'time (s)' }, y: { field: 'p99', type: 'quantitative', title: 'p99 per 250 ms (ms)', scale: { type: 'log' } } } },
    { data: { values: [{ t: r.kill_s }] }, mark: { type: 'rule', color: '#e45756' }, encoding: { x: { field: 't', type: 'quantitative' } } },
  ],
} as TopLevelSpec)}`);
  }
  return `<section><h2>Failover: one worker ${runs[0]?.how === 'freeze' ? 'frozen (SIGSTOP)' : 'killed (SIGKILL)'} under load</h2>
${table(runs, [
  { head: 'run', cell: (r) => esc(r.label) },
  { head: 'requests', cell: (r) => int(r.requests), num: true },
  { head: 'in flight on it', cell: (r) => `${int(r.in_flight_at_loss)} (${int(r.sent_after_kill)} after)`, num: true },
  { head: 'failed', cell: (r) => int(r.errors), num: true },
  { head: 'failed elsewhere', cell: (r) => int(r.failed_elsewhere), num: true },
  { head: 'retried', cell: (r) => int(r.retried), num: true },
  { head: 'exited ms', cell: (r) => f1(r.exited_ms), num: true },
  { head: 'detected ms', cell: (r) => f1(r.detected_ms), num: true },
  { head: 'last call to it ms', cell: (r) => f1(r.last_dispatch_ms), num: true },
  { head: 'p99 before ms', cell: (r) => f1(r.before.p99_ms), num: true },
  { head: 'p99 meanwhile ms', cell: (r) => f1(r.meanwhile.p99_ms), num: true },
  { head: 'p99 after ms', cell: (r) => f1(r.after.p99_ms), num: true },
], 'Times from the kill. Exited: the process gone, as its parent saw it. Detected: the gateway\'s first fleet event for the worker (lost, unhealthy, ejected). In flight on it: calls sent to it before the detection and unanswered then, the most the failure could cost; in brackets, those sent after the kill, before the gateway knew. Last call to it: the last sent to it (negative: none after the kill). p99 by when the answer came: before the kill, from it until a second after the detection, after that.')}
${parts.join('\n')}
</section>`;
}

async function greySection(runs: GreyRun[]): Promise<string> {
  return `<section><h2>Grey failure: one worker ${esc(runs[0]?.slow ?? '')} slowed</h2>
${await renderSvg({
  width: 520,
  height: 200,
  data: { values: runs.map((r) => ({ policy: r.balance, ejection: r.ejection ? 'ejection on' : 'ejection off', p99: r.p99_ms })) },
  mark: 'bar',
  encoding: {
    x: { field: 'policy', type: 'nominal', title: null },
    xOffset: { field: 'ejection' },
    y: { field: 'p99', type: 'quantitative', title: 'p99 (ms)' },
    color: { field: 'ejection', type: 'nominal', legend: { orient: 'bottom', title: null } },
  },
} as TopLevelSpec)}
${table(runs, [
  { head: 'balance', cell: (r) => esc(r.balance) },
  { head: 'ejection', cell: (r) => (r.ejection ? 'on' : 'off') },
  { head: 'requests', cell: (r) => int(r.requests), num: true },
  { head: 'req/s', cell: (r) => int(r.requests_per_s), num: true },
  { head: 'p50 ms', cell: (r) => f1(r.p50_ms), num: true },
  { head: 'p99 ms', cell: (r) => f1(r.p99_ms), num: true },
  { head: 'errors', cell: (r) => int(r.errors), num: true },
  { head: 'slow worker share', cell: (r) => `${(100 * r.slow_share).toFixed(1)} %`, num: true },
  { head: 'ejections', cell: (r) => int(r.ejections), num: true },
])}
</section>`;
}

async function replicasSection(rows: ReplicaRow[]): Promise<string> {
  const data = rows.map((r) => ({ workers: r.workers, run: `${r.front} ${r.path} ${r.balance}`, rps: r.requests_per_s, errors: r.errors }));
  const chart = (y: string, title: string) =>
    renderSvg({
      width: 520,
      height: 200,
      data: { values: data },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'workers', type: 'quantitative', title: 'workers', axis: { tickMinStep: 1 } },
        y: { field: y, type: 'quantitative', title },
        color: { field: 'run', type: 'nominal', legend: { orient: 'bottom', title: null } },
      },
    } as TopLevelSpec);
  return `<section><h2>Replicas: throughput and failures against the number of workers (seed 003)</h2>
${await chart('rps', 'requests / s')}
${await chart('errors', 'failed requests')}
${table(rows, [
  { head: 'workers', cell: (r) => int(r.workers), num: true },
  { head: 'balance', cell: (r) => esc(r.balance) },
  { head: 'front', cell: (r) => esc(r.front) },
  { head: 'path', cell: (r) => esc(r.path) },
  { head: 'requests', cell: (r) => int(r.requests), num: true },
  { head: 'req/s', cell: (r) => int(r.requests_per_s), num: true },
  { head: 'failed', cell: (r) => int(r.errors), num: true },
  { head: 'p50 ms', cell: (r) => f2(r.p50_ms), num: true },
  { head: 'p99 ms', cell: (r) => f2(r.p99_ms), num: true },
])}
</section>`;
}

/** Writes fleet.html and fleet.json for a fleet experiment or a run stepping the worker count; returns the page's path, or null. */
export async function writeFleetReport(dir: string): Promise<string | null> {
  const meta = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8').catch(() => '{}')) as { config?: { experiment?: string; workers?: number | number[] } };
  const experiment = meta.config?.experiment ?? 'frameworks';
  const replicas = experiment === 'frameworks' && Array.isArray(meta.config?.workers) && meta.config.workers.length > 1;
  if (!['scaling', 'failover', 'grey'].includes(experiment) && !replicas) return null;
  const names = (await readdir(dir)).filter((f) => /\.ndjson(\.gz)?$/.test(f));
  const files = await Promise.all(names.map(async (name) => ({ name, records: await readRecordLines(join(dir, name)) })));
  const data: Record<string, unknown> = { experiment };
  let body: string;
  if (replicas) {
    const all = files.flatMap((f) => f.records);
    const rows = replicaRows(all.filter((r) => r.role === 'caller'), all.filter((r) => r.role === 'gateway'));
    data.replicas = rows;
    body = await replicasSection(rows);
  } else {
    const runs = [...groupRuns(files).values()];
    if (experiment === 'scaling') {
      const s = runs.map((r) => scalingRun(r)).filter((x): x is ScalingRun => x !== null);
      data.scaling = s;
      body = await scalingSection(s);
    } else if (experiment === 'failover') {
      const s = runs.map((r) => failoverRun(r)).filter((x): x is FailoverRun => x !== null);
      data.failover = s;
      body = await failoverSection(s);
    } else {
      const s = runs.map((r) => greyRun(r)).filter((x): x is GreyRun => x !== null);
      data.grey = s;
      body = await greySection(s);
    }
  }
  const title = replicas ? 'replicas' : experiment;
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>faasbench ${esc(title)} experiment</title><style>${REPORT_CSS}</style></head>
<body><main><h1>faasbench: ${esc(title)} experiment</h1>
${body}
</main></body></html>
`;
  const path = join(dir, 'fleet.html');
  await writeFile(path, page);
  await writeFile(join(dir, 'fleet.json'), `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
