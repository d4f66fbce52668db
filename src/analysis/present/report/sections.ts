/** The report's bookkeeping sections: run facts, what joined and what did not, host clocks. */
import { esc, table } from './html.js';
import { fmtInt, fmtNs } from '../../compute/format.js';
import type { ClockOffset } from '../../compute/offsets.js';
import type { Summary } from '../../compute/summary-types.js';

/** The parts of run.json the first screen reads; any may be missing (an older or hand-made run.json). */
interface RunJson {
  startedAt?: string;
  finishedAt?: string | null;
  status?: string;
  mode?: string;
  host?: { hostname?: string; cpu?: string; cores?: number; memoryGiB?: number };
  config?: { rounds?: number; rate?: number | null; duration?: string; requests?: number | null; warmup?: string; connections?: number | number[] };
  cells?: { planned?: number; done?: number };
}

/**
 * The first screen: what ran, where, how long, from run.json where there is
 * one and from the records otherwise. The answer follows it.
 */
export function overview(s: Summary): string {
  const meta = (s.run && typeof s.run === 'object' ? s.run : {}) as RunJson;
  const cfg = meta.config ?? {};
  const cells = s.cells.filter((c) => c.measured > 0);
  const list = (xs: readonly (string | number)[]) => [...new Set(xs)].map((x) => esc(x)).join(', ') || '–';
  const open = cells.filter((c) => c.open_loop).length;
  const rate = typeof cfg.rate === 'number' ? ` at ${fmtInt(cfg.rate)} req/s` : '';
  const load = open === 0 ? 'closed loop' : open === cells.length ? `open loop${rate}, latency from the due time` : `${open} of ${cells.length} cells open loop`;
  const perCell = cfg.requests ? `${fmtInt(cfg.requests)} requests` : cfg.duration ? `${esc(cfg.duration)}` : null;
  const rounds = Math.max(0, ...s.groups.map((g) => g.rounds));
  const hosts = (role: string) => [...new Set(s.clock_offsets.flatMap((o) => [o.clocks.startsWith(role) ? o.host : null, o.clocks.endsWith(role) ? o.reference_host : null]).filter((h): h is string => h !== null))];
  const callerHosts = hosts('caller');
  if (callerHosts.length === 0 && s.timeline) callerHosts.push(s.timeline.origin.host);
  const where = [
    `caller ${list(callerHosts)}`,
    ...(s.groups.some((g) => !g.caller_only) ? [`gateway ${list(hosts('gateway'))}`, `worker ${list(hosts('worker'))}`] : ['server: not faasbench (caller records only)']),
  ].join(' · ');
  const machine = meta.host ? `${esc(meta.host.hostname ?? '?')}: ${esc(meta.host.cpu ?? '?')}, ${fmtInt(meta.host.cores)} cores, ${meta.host.memoryGiB ?? '?'} GiB` : null;
  const started = meta.startedAt ?? (s.timeline?.origin.wall_ms != null ? new Date(s.timeline.origin.wall_ms).toISOString() : null);
  const seconds = meta.startedAt && meta.finishedAt ? (Date.parse(meta.finishedAt) - Date.parse(meta.startedAt)) / 1000 : null;
  const measured = cells.reduce((n, c) => n + c.measured, 0);
  const facts: [string, string | null][] = [
    ['frameworks', list(s.groups.map((g) => g.framework))],
    ['endpoints', list(s.groups.map((g) => g.endpoint))],
    ['connections', list(cells.map((c) => c.connections).sort((a, b) => a - b))],
    ['rounds', `${fmtInt(rounds)}${rounds < 3 ? ' (too few to judge differences between frameworks)' : ''}`],
    ['load', `${load}${perCell ? `; ${perCell} per cell` : ''}${cfg.warmup ? ` after ${esc(cfg.warmup)} warm-up` : ''}`],
    ['where', `${meta.mode ? `${esc(meta.mode)} run; ` : ''}${where}`],
    ['machine', machine],
    ['when', started ? `${esc(started)}${seconds !== null ? `, ${fmtSeconds(seconds)}` : ''}${meta.status && meta.status !== 'complete' ? ` (<strong>${esc(meta.status)}</strong>)` : ''}` : null],
    ['requests', `${fmtInt(measured)} in the figures, ${fmtInt(cells.length)} cells${meta.cells ? ` (${fmtInt(meta.cells.done)} of ${fmtInt(meta.cells.planned)} planned)` : ''}`],
  ];
  return `<div class="facts"><dl>${facts
    .filter((f): f is [string, string] => f[1] !== null)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`)
    .join('')}</dl></div>`;
}

const fmtSeconds = (s: number) => (s >= 120 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

/** run.json as written, folded away at the end: for whoever wants every detail. */
export function runJson(s: Summary): string {
  if (s.runs.length === 0) return '<section><h2>run.json</h2><p class="meta">No run.json found beside the records.</p></section>';
  const first = s.runs[0]!;
  if (first.meta === null) return `<section><h2>run.json</h2><p class="meta">run.json at <code>${esc(first.path)}</code> did not parse: ${esc(first.error ?? '')}</p></section>`;
  const more = s.runs.length > 1 ? `<p class="meta">${s.runs.length} run.json files; shown: the first.</p>` : '';
  return `<section><h2>run.json</h2>${more}<details><summary><code>${esc(first.path)}</code></summary><pre>${esc(JSON.stringify(first.meta, null, 2))}</pre></details></section>`;
}

export function dataSection(s: Summary): string {
  const j = s.joins;
  const r = s.records;
  const rows: [string, number, string][] = [
    ['records read (caller / gateway / worker)', r.by_role.caller + r.by_role.gateway + r.by_role.worker,
      `${fmtInt(r.by_role.caller)} / ${fmtInt(r.by_role.gateway)} / ${fmtInt(r.by_role.worker)}`],
    ['request ids', j.ids, ''],
    ['joined (caller + gateway)', j.joined, 'every stamp is there: the gateway carries a copy of the worker\'s'],
    ['… warm-up, left out of the figures', j.joined_warmup, ''],
    ['… measured: in the figures', j.measured, ''],
    ...Object.entries(j.excluded).map(([why, n]): [string, number, string] => [`… left out: ${why}`, n, '']),
    ['caller record, no gateway record', j.caller_without_gateway, `${fmtInt(j.caller_without_gateway_with_error)} of them with a caller error`],
    ['gateway record, no caller record', j.gateway_without_caller, ''],
    ['gateway called a worker, no worker record', j.gateway_without_worker, 'stages still computed from the gateway\'s copy'],
    ['worker record, no gateway record', j.worker_without_gateway, `${fmtInt(j.worker_only)} seen by the worker only`],
    ['duplicate records (caller / gateway / worker), first kept', r.duplicates.caller + r.duplicates.gateway + r.duplicates.worker,
      `${fmtInt(r.duplicates.caller)} / ${fmtInt(r.duplicates.gateway)} / ${fmtInt(r.duplicates.worker)}`],
    ['worker stamps differ from the gateway\'s copy', r.worker_copy_mismatch, ''],
    ['nested calls (gateway / worker): joined into trees by the composition figures', r.nested_calls.gateway + r.nested_calls.worker,
      `${fmtInt(r.nested_calls.gateway)} / ${fmtInt(r.nested_calls.worker)}`],
    ...Object.entries(r.rejected).map(([why, n]): [string, number, string] => [`lines skipped: ${why}`, n, '']),
  ];
  const examples = r.rejected_examples.length
    ? `<details><summary>Examples of skipped lines</summary><ul>${r.rejected_examples
        .map((e) => `<li><code>${esc(e.file)}:${e.line}</code> ${esc(e.reason)}: <code>${esc(e.text)}</code></li>`)
        .join('')}</ul></details>`
    : '';
  return `<section><h2>What was read, what joined</h2>
${table(rows, [
  { head: '', cell: (x) => esc(x[0]) },
  { head: 'count', cell: (x) => fmtInt(x[1]), num: true },
  { head: '', cell: (x) => esc(x[2]) },
])}
${examples}</section>`;
}

export function offsetsTable(offsets: ClockOffset[]): string {
  if (offsets.length === 0) return '<p>No exchange had all four stamps.</p>';
  return table(offsets, [
    { head: 'clocks', cell: (o) => `${esc(o.clocks)}` },
    {
      head: 'host − reference',
      // Host names can be long (cloud FQDNs): one per line, wrapping, so the table fits the page.
      cell: (o) => `${esc(o.host)}<br>− ${esc(o.reference_host)}${o.same_host ? ' <span class="note">(one host: true offset 0)</span>' : ''}`,
      wrap: true,
    },
    { head: 'n', cell: (o) => fmtInt(o.n), num: true },
    { head: 'median', cell: (o) => fmtNs(o.median_ns), num: true },
    { head: 'p5 … p95 − median', cell: (o) => `${fmtNs(o.p5_ns - o.median_ns)} … ${fmtNs(o.p95_ns - o.median_ns)}`, num: true },
    { head: 'IQR', cell: (o) => fmtNs(o.p75_ns - o.p25_ns), num: true },
    // Relative to the median like the spread: an offset of hours written twice would widen the table past the page.
    { head: 'at min RTT − median (RTT)', cell: (o) => `${fmtNs(o.at_min_rtt_ns - o.median_ns)} (${fmtNs(o.min_rtt_ns, false)})`, num: true },
    {
      head: 'causality bounds − median',
      cell: (o) =>
        o.lower_bound_ns <= o.upper_bound_ns
          ? `${fmtNs(o.lower_bound_ns - o.median_ns)} … ${fmtNs(o.upper_bound_ns - o.median_ns)}`
          : `contradict by ${fmtNs(o.lower_bound_ns - o.upper_bound_ns, false)} (see Warnings)`,
      num: true,
    },
    { head: 'drift', cell: (o) => (o.drift_ppm === null ? '–' : `${o.drift_ppm.toFixed(2)} ppm`), num: true },
  ]);
}
