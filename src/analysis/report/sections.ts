/** The report's bookkeeping sections: run facts, what joined and what did not, host clocks. */
import { esc, table } from './html.js';
import { fmtInt, fmtNs } from '../format.js';
import type { ClockOffset } from '../offsets.js';
import type { Summary } from '../summary-types.js';

const MAX_FACTS = 24;

/** Key facts of run.json, whatever its exact schema: scalars, one level of nesting flattened. */
export function runFacts(s: Summary): string {
  if (s.runs.length === 0) return '<p class="meta">No run.json found beside the records.</p>';
  const first = s.runs[0]!;
  if (first.meta === null) return `<p class="meta">run.json at <code>${esc(first.path)}</code> did not parse: ${esc(first.error ?? '')}</p>`;
  const facts: [string, string][] = [];
  const add = (key: string, value: unknown) => {
    if (facts.length >= MAX_FACTS) return;
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) facts.push([key, String(value)]);
    else if (Array.isArray(value)) {
      const scalars = value.every((v) => v === null || typeof v !== 'object');
      facts.push([key, scalars ? value.join(', ') : `[${value.length} items]`]);
    }
  };
  const meta = first.meta as Record<string, unknown>;
  if (typeof meta === 'object' && !Array.isArray(meta)) {
    for (const [k, v] of Object.entries(meta)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) add(`${k}.${k2}`, v2);
      else add(k, v);
    }
  }
  const more = s.runs.length > 1 ? `<p class="meta">${s.runs.length} run.json files; shown: the first.</p>` : '';
  return `<div class="facts"><dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v.length > 160 ? `${v.slice(0, 160)}…` : v)}</dd>`).join('')}</dl>
${more}<details><summary>run.json (<code>${esc(first.path)}</code>)</summary><pre>${esc(JSON.stringify(first.meta, null, 2))}</pre></details></div>`;
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
      cell: (o) => (o.same_host ? `${esc(o.host)} − ${esc(o.reference_host)} <span class="note">(one host: true offset 0)</span>` : `${esc(o.host)} − ${esc(o.reference_host)}`),
    },
    { head: 'n', cell: (o) => fmtInt(o.n), num: true },
    { head: 'median', cell: (o) => fmtNs(o.median_ns), num: true },
    { head: 'p5 … p95 − median', cell: (o) => `${fmtNs(o.p5_ns - o.median_ns)} … ${fmtNs(o.p95_ns - o.median_ns)}`, num: true },
    { head: 'IQR', cell: (o) => fmtNs(o.p75_ns - o.p25_ns), num: true },
    { head: 'at min RTT (RTT)', cell: (o) => `${fmtNs(o.at_min_rtt_ns)} (${fmtNs(o.min_rtt_ns)})`, num: true },
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
