/** The report's load sections: how busy each process was per cell, and where the time went as load grew (Figure 3b). */
import type { CellSummary } from '../../compute/cells.js';
import { loadStagesSpec, renderSvg } from './charts.js';
import { esc, table, type Column } from './html.js';
import { fmtInt, fmtPct, fmtUs } from '../../compute/format.js';
import { collectorShows, FINDING_MEANING, type Finding, type RoleLoad } from '../../compute/saturation.js';
import { PARTS, STAGE_NAMES } from '../../compute/stages.js';

const pct = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);
const busy = (l: RoleLoad | undefined) => (l === undefined ? '–' : l.elu >= 0.9 ? `<strong>${pct(l.elu)}</strong>` : pct(l.elu));
const cpu = (l: RoleLoad | undefined) => (l === undefined ? '–' : `${Math.round(l.cpu_percent)}%`);
const gauge = (l: RoleLoad | undefined, name: string) => {
  const g = l?.gauges[name];
  return g === undefined ? '–' : `${g.mean.toFixed(1)} <span class="note">(≤${fmtInt(g.max)})</span>`;
};
const delayMs = (l: RoleLoad | undefined) => (l?.delay_p99_us == null ? '–' : (l.delay_p99_us / 1000).toFixed(1));
const gc = (l: RoleLoad | undefined) => {
  if (l?.gc_percent == null) return '–';
  // The longest pause comes from samples mostly inside the cell: none in a cell shorter than half an interval.
  const max = l.gc_max_pause_us;
  const text = `${l.gc_percent.toFixed(1)}% · ${max === null ? '–' : (max / 1000).toFixed(1)}`;
  return collectorShows(l) ? `<strong>${text}</strong>` : text;
};
const GC_TITLE = 'garbage collector: % of the time it paused the main thread · its longest pause, ms';

export function saturationSection(cells: readonly CellSummary[]): string {
  const sampled = cells.filter((c) => Object.keys(c.load).length > 0);
  if (sampled.length === 0) {
    return `<section><h2>How busy was each process?</h2><p>No saturation samples in these records (the roles write them with their records, about once a second).
Without them, a stage that grew under load cannot be told from a process that was simply busy.</p></section>`;
  }
  const kinds = Object.keys(FINDING_MEANING) as Finding['kind'][];
  const found = kinds
    .map((kind) => ({ kind, n: sampled.filter((c) => c.findings.some((f) => f.kind === kind)).length }))
    .filter((k) => k.n > 0);
  const lead =
    found.length === 0
      ? `<p>No process was saturated, starved of CPU, queued for a pool thread or paused long by its garbage collector in any of the ${sampled.length} sampled cells: the stages hold no wait for a busy process.</p>`
      : `<p>Of ${sampled.length} sampled cells, ${found.map((k) => `<strong>${k.n}</strong> show ${esc(LABEL[k.kind])}`).join(', ')}. ` +
        'Work that waits for a busy process lands in the stage that waits for it:</p>' +
        `<dl class="findings">${found.map((k) => `<dt>${esc(LABEL[k.kind])}</dt><dd>${esc(FINDING_MEANING[k.kind])}</dd>`).join('')}</dl>`;
  const both = (l: RoleLoad | undefined) => `${busy(l)} · ${cpu(l)}`;
  const cols: Column<CellSummary>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'conns', cell: (c) => fmtInt(c.connections), num: true },
    { head: 'req/s', cell: (c) => fmtInt(c.requests_per_s), num: true },
    { head: 'caller loop · CPU', cell: (c) => both(c.load.caller), num: true, title: 'event loop busy, % of the time · CPU, % of one core' },
    { head: 'caller GC · longest ms', cell: (c) => gc(c.load.caller), num: true, title: GC_TITLE },
    { head: 'gateway loop · CPU', cell: (c) => both(c.load.gateway), num: true },
    { head: 'gateway loop late p99 ms', cell: (c) => delayMs(c.load.gateway), num: true },
    { head: 'gateway GC · longest ms', cell: (c) => gc(c.load.gateway), num: true, title: GC_TITLE },
    { head: 'RPC calls in flight', cell: (c) => gauge(c.load.gateway, 'inflight'), num: true, title: 'mean (max) at the samples' },
    { head: 'worker loop · CPU', cell: (c) => both(c.load.worker), num: true, title: 'CPU includes the pool threads' },
    { head: 'worker GC · longest ms', cell: (c) => gc(c.load.worker), num: true, title: GC_TITLE },
    { head: 'pool queue', cell: (c) => gauge(c.load.worker, 'pool_queued'), num: true, title: 'calls waiting for a pool thread: mean (max)' },
    { head: 'host load', cell: (c) => gauge(c.load.gateway ?? c.load.worker ?? c.load.caller, 'host_load1'), num: true, title: "the host's 1-minute load average: mean (max)" },
    { head: 'findings', cell: (c) => esc(c.findings.map((f) => f.tag).join('; ')), wrap: true },
  ];
  return `<section><h2>How busy was each process?</h2>
${lead}
<details${found.length > 0 ? ' open' : ''}><summary>Load per cell</summary>
${table(sampled, cols, 'Each role samples itself about once a second; a sample counts for a cell with the part of its interval in which that cell\'s requests were on that host. Loop: event-loop utilisation (bold: saturated). CPU: % of one core, user + system, all threads. GC: the garbage collector\'s pauses of the main thread, % of the time · the longest (bold: a finding).')}
</details></section>`;
}

const LABEL: Record<Finding['kind'], string> = {
  saturated: 'a saturated loop',
  pool_queue: 'a pool queue',
  late_loop: 'a late loop (waiting for a CPU)',
  gc: 'long garbage-collector pauses',
  host_busy: 'an oversubscribed host',
};

/** Figure 3b, for the endpoints run at several connection counts. */
export async function loadStagesFigure(cells: readonly CellSummary[], swept: readonly string[]): Promise<string> {
  const mine = cells.filter((c) => swept.includes(c.endpoint) && c.measured > 0);
  const spec = loadStagesSpec(mine);
  const cols: Column<CellSummary>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'conns', cell: (c) => fmtInt(c.connections), num: true },
    ...PARTS.map((p) => ({ head: esc(STAGE_NAMES[p]), cell: (c: CellSummary) => fmtUs(c.stage_mean_us[p]), num: true })),
    { head: 'roundtrip', cell: (c) => `<strong>${fmtUs(c.stage_mean_us.roundtrip)}</strong>`, num: true },
    { head: 'saturated', cell: (c) => esc(c.saturated.join(', ')) },
  ];
  return `<section class="figure"><h2>Figure 3b. Where the time goes as load grows</h2>
<p>Each stage's share of the mean roundtrip per connection count. A stage that grows with load either does more work or holds a queue;
the load table above says which process was busy. Shares in the chart; mean µs per stage in the table.</p>
<div class="chart">${spec ? await renderSvg(spec) : '<p class="empty">No data for this figure.</p>'}</div>
${table(mine, cols, 'Mean µs per stage; the seven add up to the mean roundtrip.')}</section>`;
}

/** A sentence per swept endpoint: outside the function and respond at the fewest and the most connections. */
export function loadSentences(cells: readonly CellSummary[], swept: readonly string[]): string {
  const items = swept.flatMap((endpoint) => {
    const mine = cells.filter((c) => c.endpoint === endpoint && c.measured > 0);
    const counts = [...new Set(mine.map((c) => c.connections))].sort((a, b) => a - b);
    if (counts.length < 2) return [];
    const at = (n: number) => {
      const cs = mine.filter((c) => c.connections === n);
      const sum = (f: (c: CellSummary) => number) => cs.reduce((a, c) => a + f(c) * c.measured, 0);
      const rt = sum((c) => c.stage_mean_us.roundtrip);
      const n2 = cs.reduce((a, c) => a + c.measured, 0);
      const top = PARTS.filter((p) => p !== 'function').sort((a, b) => sum((c) => c.stage_mean_us[b]) - sum((c) => c.stage_mean_us[a]))[0]!;
      return `at ${n} connection${n === 1 ? '' : 's'} the mean roundtrip is ${fmtUs(rt / n2)} µs, ${fmtPct(1 - sum((c) => c.stage_mean_us.function) / rt)} outside the function, respond ${fmtPct(sum((c) => c.stage_mean_us.respond) / rt)}, the largest part ${STAGE_NAMES[top]} (${fmtPct(sum((c) => c.stage_mean_us[top]) / rt)})`;
    };
    return [`<li><strong>${esc(endpoint)}</strong>: ${at(counts[0]!)}; ${at(counts.at(-1)!)}.</li>`];
  });
  return items.length ? `<p>Under load and at few connections (Figure 3b):</p><ul>${items.join('')}</ul>` : '';
}
