/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no
 * network) that answers the original report's question first and shows its
 * Figures 3–9 after, each with the numbers beneath it.
 */
import { answerSpec, boxPlotSpec, renderSvg, sharesSpec, sweepSpec } from './charts.js';
import { esc, table, type Column } from './html.js';
import { fmtInt, fmtNs, fmtPct, fmtUs } from '../../compute/format.js';
import { REPORT_CSS } from './css.js';
import { sweptEndpoints } from '../../compute/warnings.js';
import { loadSentences, loadStagesFigure, saturationSection } from './load.js';
import { scaleSection } from './scale.js';
import { dataSection, offsetsTable, overview, runJson } from './sections.js';
import { latencyNote, spectrumFigure, timelineSection } from './time.js';
import { callerChecksSection, statisticsSection } from './statistics.js';
import { payloadFigure } from './payload.js';
import { linkSentence, linksSection } from './links.js';
import { PARTS, STAGE_LABELS, STAGE_NAMES, STAGES, type Stage } from '../../compute/stages.js';
import type { Comparison, GroupSummary, Summary, SweepPoint } from '../../compute/summary-types.js';
import { MIN_ROUNDS, NEGLIGIBLE } from '../../compute/rounds.js';

interface FigureDef {
  n: number;
  stage: Stage;
  title: string;
  text: string;
}

const BOX_FIGURES: FigureDef[] = [
  { n: 4, stage: 'latency', title: 'Latency', text: 'Caller sends (t0) to caller has the whole response (t6): what a user of the function waits. In open-loop cells from when the request was due (t0_intended), so time a request spent waiting to be sent counts.' },
  { n: 5, stage: 'function', title: 'Function duration on the worker', text: 'The user function alone, t3_start to t3_end, stamped in the thread that runs it: the original report\'s step 3.' },
  { n: 6, stage: 'rpc_link', title: 'RPC link', text: 'The gateway\'s wait for the worker minus the worker\'s own time: frames on the wire and their encoding, both directions (steps 2 and 4), and any wait for a busy loop to read them.' },
  { n: 7, stage: 'handler', title: 'Endpoint handler (the original report\'s Figure 7)', text: 'As the original report defines it: from receiving step 1 to sending step 5, t1 to t5 on the gateway. It holds every stage from gateway in to respond.' },
  { n: 8, stage: 'delta', title: 'Delta: roundtrip minus handler (the original report\'s Figure 8)', text: 'As the original report defines it: the roundtrip minus the handler. Numerically the caller link: all the time outside the gateway\'s handler (network, the caller\'s parsing, the wait for a busy gateway to read the request), not the time between step 4 and step 5, which is respond (Figure 11).' },
];

const DETAIL_FIGURES: FigureDef[] = [
  { n: 10, stage: 'gateway_in', title: 'Gateway in: parse and dispatch', text: 'Request arrives at the HTTP framework (t1) to the RPC call on the socket (t2): the framework\'s routing and parsing plus our dispatch.' },
  { n: 11, stage: 'respond', title: 'Respond: result in, response out', text: 'Worker reply decoded (t4) to HTTP response handed to the socket (t5): the time between step 4 and step 5, where the original report suspected its bottleneck.' },
];

export async function renderReport(s: Summary): Promise<string> {
  const figures: string[] = [];
  // Without gateway records there are no stages: the latency figures only.
  const staged = s.groups.some((g) => !g.caller_only);
  // Figure 3 only when a sweep ran: some endpoint at more than one connection count.
  const swept = sweptEndpoints(s);
  if (s.sweep && swept.length > 0) {
    figures.push(await sweepFigure(s.sweep.filter((p) => swept.includes(p.endpoint))));
    if (staged) figures.push(await loadStagesFigure(s.cells.filter((c) => !c.caller_only), swept));
  }
  const [latency, ...stageFigures] = BOX_FIGURES;
  figures.push(await boxFigure(s, latency!), await spectrumFigure(s));
  if (staged) {
    for (const def of stageFigures) figures.push(await boxFigure(s, def));
    figures.push(await sharesFigure(s.groups));
    for (const def of DETAIL_FIGURES) figures.push(await boxFigure(s, def));
  }
  if (staged) figures.push(await payloadFigure(s.cells));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>faasbench report</title>
<style>${REPORT_CSS}</style></head>
<body><main>
<header>
<h1>faasbench report</h1>
<p class="meta">Generated ${esc(s.generated_at)} by faasbench ${esc(s.faasbench_version)} from
${fmtInt(s.inputs.files.length)} record file(s) in ${s.inputs.paths.map((p) => `<code>${esc(p)}</code>`).join(', ')}.</p>
${overview(s)}
${verdictLead(s)}
</header>
${await answerSection(s)}
${warnings(s)}
${await timelineSection(s)}
${saturationSection(s.cells)}
${statisticsSection(s.cells)}
${callerChecksSection(s.caller_checks)}
${comparisonSection(s)}
${linksSection(s)}
${figures.join('\n')}
${await scaleSection(s.scale)}
${dataSection(s)}
${runJson(s)}
<section><h2>Host clocks</h2>
<p>No stage depends on these: every stage subtracts stamps of one host. The offsets are estimated NTP-style per exchange and shown for
checking the setup. The true offset lies between the causality bounds; the min-RTT estimate is the tightest single one.</p>
${offsetsTable(s.clock_offsets)}</section>
${allStagesSection(s.groups)}
${methodSection(s)}
</main></body></html>
`;
}

function warnings(s: Summary): string {
  if (s.warnings.length === 0) return '';
  // The first sentence of each says what happened: bold, so the list can be skimmed.
  const item = (w: string) => {
    const cut = w.search(/[.:] /);
    return cut < 0 ? `<li>${esc(w)}</li>` : `<li><strong>${esc(w.slice(0, cut + 1))}</strong>${esc(w.slice(cut + 1))}</li>`;
  };
  return `<section class="warn"><h2>Warnings</h2><ul>${s.warnings.map(item).join('')}</ul></section>`;
}

async function answerSection(s: Summary): Promise<string> {
  const rows = s.answer.by_endpoint;
  if (rows.length === 0 && s.groups.some((g) => g.measured > 0)) return callerOnlyAnswer(s);
  if (rows.length === 0) return `<section class="answer"><h2>Where did the time go?</h2><p>No request made it into the figures; see "What was read".</p></section>`;
  const spec = answerSpec(rows);
  const lines = rows.map((r) => {
    const outside = PARTS.filter((p) => p !== 'function' && p !== 'respond').sort((a, b) => r.shares[b] - r.shares[a]);
    const top = outside.slice(0, 2).map((p) => `${STAGE_NAMES[p]} ${fmtPct(r.shares[p])}`).join(', ');
    return `<li><strong>${esc(r.endpoint)}</strong>: <strong>${fmtPct(r.outside_function_share)}</strong> of the ${fmtDuration(r.mean_roundtrip_us)} mean roundtrip ` +
      `is spent outside the function: <em>respond</em> ${fmtPct(r.respond_share)}, ${top}.${esc(linkSentence(r.link_split, r.count))}</li>`;
  });
  const seed = s.answer.seed ? `<p class="verdict"><strong>${esc(s.answer.seed.sentence.split(': ')[0]!)}:</strong> ${esc(s.answer.seed.sentence.split(': ').slice(1).join(': '))}</p>` : '';
  return `<section class="answer"><h2>Where did the time go?</h2>
<ul class="lead">${lines.join('')}</ul>
${seed}
${loadSentences(s.cells.filter((c) => !c.caller_only), sweptEndpoints(s))}
${respondCaveat(s)}
<div class="chart">${spec ? await renderSvg(spec) : ''}</div>
${table(rows, [
  { head: 'endpoint', cell: (r) => esc(r.endpoint) },
  { head: 'requests', cell: (r) => fmtInt(r.count), num: true },
  { head: 'mean roundtrip µs', cell: (r) => fmtUs(r.mean_roundtrip_us), num: true },
  ...PARTS.map((p) => ({ head: esc(STAGE_NAMES[p]), cell: (r: (typeof rows)[number]) => fmtPct(r.shares[p]), num: true })),
  { head: 'outside the function', cell: (r) => `<strong>${fmtPct(r.outside_function_share)}</strong>`, num: true, title: 'Σ(roundtrip − function) / Σ roundtrip' },
  { head: 'outside, median request', cell: (r) => fmtPct(r.median_outside_function_share), num: true },
  { head: 'respond, median request', cell: (r) => fmtPct(r.median_respond_share), num: true },
], 'All frameworks pooled. Shares of the total time (Σ stage / Σ roundtrip), so they add up to 100% and are shares of the mean roundtrip; ' +
  'the last two columns take each request\'s own share instead and report the median. Per framework: Figure 9.')}
</section>`;
}

/** Records of the caller alone: what it saw, per endpoint, and why there are no stages. */
function callerOnlyAnswer(s: Summary): string {
  const groups = s.groups.filter((g) => g.measured > 0);
  const failed = (g: GroupSummary) => Object.values(g.excluded).reduce((a, b) => a + b, 0);
  const lines = groups.map((g) => {
    const l = g.stages.latency!;
    const f = failed(g);
    return `<li><strong>${esc(g.framework)} ${esc(g.endpoint)}</strong>: ${fmtInt(g.throughput.requests_per_s)} responses/s, latency ` +
      `p50 ${fmtDuration(l.p50)}, p99 ${fmtDuration(l.p99)}, p99.9 ${fmtDuration(l.p99_9)}; ${f === 0 ? 'no failures' : `<strong>${fmtInt(f)} failed</strong> (${fmtPct(f / g.requests)})`}.</li>`;
  });
  return `<section class="answer"><h2>What the caller saw</h2>
<ul class="lead">${lines.join('')}</ul>
<p>Only caller records: the server is not faasbench's gateway, or its records were not collected. So there is the latency, throughput and failures,
but no stage inside the server. ${esc(latencyNote(s.cells))}</p></section>`;
}

/** respond ends at t5 (response handed to the socket); when t5 was stamped after the caller already had the response, say so beside the answer. */
function respondCaveat(s: Summary): string {
  // With kernel stamps the stages end at the kernel's send (k5), which comes before the caller's receipt: the lag is out of them.
  if (s.kernel && s.kernel.stamps.found.k5 > 0 && s.kernel.stamps.found.k5 === s.kernel.stamps.wanted.k5) return '';
  const late = s.clock_offsets
    .filter((o) => o.clocks === 'gateway − caller')
    .map((o) => ({ o, k: o.reply_stamp_after_receipt?.count ?? o.negative_link.count, l: o.reply_stamp_after_receipt ?? o.negative_link }))
    .filter((x) => x.k > 0);
  if (late.length === 0) return '';
  const parts = late.map(({ o, k, l }) => `${fmtPct(k / o.n)} of requests on ${esc(o.reference_host)} → ${esc(o.host)} (median ${fmtNs(l.median_ns, false)}, at most ${fmtNs(l.max_ns, false)})`);
  return `<p class="note">Caveat: the gateway stamped t5 after the caller already had the whole response in ${parts.join('; ')}. ` +
    '<em>respond</em> includes that lag and <em>caller link</em> is short by it; see Warnings.</p>';
}

/** µs as µs or ms, whichever reads better. */
function fmtDuration(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(us >= 10_000 ? 1 : 2)} ms` : `${fmtUs(us)} µs`;
}

/**
 * The first screen's answer to "which frameworks differ": the lead stage's
 * verdicts against the baseline, each with the rounds behind it; the table is
 * in "Frameworks against …".
 */
function verdictLead(s: Summary): string {
  if (s.comparisons.length === 0) return '';
  const stage = s.comparisons[0]!.stage;
  const baseline = s.comparisons[0]!.baseline;
  const lead = s.comparisons.filter((c) => c.stage === stage);
  const level = `${Math.round(lead[0]!.confidence * 100)}%`;
  const one = (c: Comparison) =>
    `${esc(c.framework)} ${esc(c.endpoint)} ${signed(c.round_difference!)} µs (${signed(c.ci_low!)} … ${signed(c.ci_high!)}, ${plural(c.rounds, 'round')})`;
  const differ = lead.filter((c) => c.significant);
  const unjudged = lead.filter((c) => c.verdict === 'cannot be judged');
  const same = lead.length - differ.length - unjudged.length;
  const parts: string[] = [];
  if (differ.length > 0) parts.push(`differ from ${esc(baseline)}: ${differ.map((c) => `<strong>${c.verdict}</strong> ${one(c)}`).join('; ')}`);
  if (same > 0) parts.push(`${plural(same, 'pair')} with no difference found or a negligible one`);
  if (unjudged.length > 0) parts.push(`${plural(unjudged.length, 'pair')} cannot be judged (fewer than ${MIN_ROUNDS} rounds: ${unjudged.map((c) => `${esc(c.framework)} ${esc(c.endpoint)} ${c.rounds}`).join(', ')})`);
  return `<p class="verdict"><strong>Which frameworks differ</strong> (median ${esc(STAGE_LABELS[stage])}, per-round difference against ${esc(baseline)}, ${level}): ` +
    `${parts.join('; ')}. Details: <a href="#frameworks">Frameworks against ${esc(baseline)}</a>.</p>`;
}

function comparisonSection(s: Summary): string {
  if (s.comparisons.length === 0) return '';
  const baseline = s.comparisons[0]!.baseline;
  const level = `${Math.round(s.comparisons[0]!.confidence * 100)}%`;
  const byStage = (stage: Stage) => s.comparisons.filter((c) => c.stage === stage);
  const cols: Column<Comparison>[] = [
    { head: 'endpoint', cell: (c) => esc(c.endpoint) },
    { head: 'framework', cell: (c) => esc(c.framework) },
    { head: 'median µs', cell: (c) => fmtUs(c.median), num: true },
    { head: `${esc(baseline)} median µs`, cell: (c) => fmtUs(c.baseline_median), num: true },
    { head: 'difference µs', cell: (c) => signed(c.difference), num: true },
    { head: 'ratio', cell: (c) => `${c.ratio.toFixed(3)}×`, num: true },
    { head: 'rounds', cell: (c) => fmtInt(c.rounds), num: true, title: 'rounds in which both ran: the n of the interval' },
    { head: `${level} CI of the per-round difference µs`, cell: (c) => (c.ci_low === null || c.ci_high === null ? '–' : `${signed(c.ci_low)} … ${signed(c.ci_high)}`), num: true },
    { head: 'verdict', cell: (c) => (c.significant ? `<strong>${c.verdict}</strong>` : esc(c.verdict)) + (c.unsteady_cells.length > 0 ? ` <span class="note" title="${esc(`not steady: ${c.unsteady_cells.join('; ')}`)}">(rests on a cell that was not steady)</span>` : '') },
  ];
  const stages = [...new Set(s.comparisons.map((c) => c.stage))];
  const lead = byStage(stages[0]!);
  const count = (v: string) => lead.filter((c) => c.verdict === v).length;
  const rounds = [...new Set(lead.map((c) => c.rounds))].sort((a, b) => a - b);
  const headline =
    count('cannot be judged') === lead.length
      ? `<p><strong>No verdict:</strong> ${rounds.length === 1 ? plural(rounds[0]!, 'round') : `${rounds[0]} to ${plural(rounds.at(-1)!, 'round')}`} behind each comparison, ` +
        `and a difference between frameworks needs at least ${MIN_ROUNDS} to be judged (run more <code>rounds</code>). The medians are shown, not judged.</p>`
      : `<p>Of ${lead.length} ${esc(STAGE_NAMES[stages[0]!])} medians against ${esc(baseline)}'s, <strong>${count('faster')} faster</strong> and ` +
        `<strong>${count('slower')} slower</strong> at ${level}; ${count('negligible')} negligible (real but under ${NEGLIGIBLE * 100}% of ${esc(baseline)}'s median), ` +
        `${count('no difference found')} with no difference found${count('cannot be judged') ? `, ${count('cannot be judged')} cannot be judged (fewer than ${MIN_ROUNDS} rounds)` : ''}. ` +
        `Each verdict rests on ${rounds.length === 1 ? plural(rounds[0]!, 'round') : `${rounds[0]} to ${plural(rounds.at(-1)!, 'round')}`} (the rounds column).</p>`;
  return `<section id="frameworks"><h2>Frameworks against ${esc(baseline)}</h2>
${headline}
${stages
  .map((stage, k) => {
    const t = table(byStage(stage), cols);
    const title = `Median ${STAGE_LABELS[stage]}`;
    return k === 0 ? `<h3>${esc(title)}</h3>${t}` : `<details><summary>${esc(title)}</summary>${t}</details>`;
  })
  .join('\n')}
<p class="note">The unit of replication is the round: one caller run of a cell. Requests of one round share its warm-up, its connections and the
machine's state, so they are not independent samples. Per round, each framework's median; per round both ran, the difference; the interval is
Student's t over those differences. Fewer than ${MIN_ROUNDS} rounds: cannot be judged. A difference whose interval excludes 0 but which is under
${NEGLIGIBLE * 100}% of the baseline's median is called negligible. Open-loop cells are compared on latency from the due time.</p>
</section>`;
}

const plural = (n: number, word: string) => `${fmtInt(n)} ${word}${n === 1 ? '' : 's'}`;

const signed = (v: number) => (v > 0 ? `+${fmtUs(v)}` : v < 0 ? `−${fmtUs(-v)}` : fmtUs(v));

const STATS_COLUMNS: Column<{ g: GroupSummary; stage: Stage }>[] = [
  { head: 'endpoint', cell: (r) => esc(r.g.endpoint) },
  { head: 'framework', cell: (r) => esc(r.g.framework) },
  { head: 'n', cell: (r) => fmtInt(r.g.stages[r.stage]?.count), num: true },
  ...(['min', 'p50', 'p90', 'p99', 'p99_9', 'max', 'mean'] as const).map((k) => ({
    head: k === 'p99_9' ? 'p99.9' : k,
    cell: (r: { g: GroupSummary; stage: Stage }) => fmtUs(r.g.stages[r.stage]?.[k]),
    num: true,
  })),
];

async function boxFigure(s: Summary, def: FigureDef): Promise<string> {
  const spec = boxPlotSpec(s.groups, def.stage);
  const rows = s.groups.filter((g) => g.stages[def.stage]).map((g) => ({ g, stage: def.stage }));
  const extra: Column<{ g: GroupSummary; stage: Stage }>[] =
    def.stage === 'latency' ? [{ head: 'throughput req/s', cell: (r) => fmtInt(r.g.throughput.requests_per_s), num: true }] : [];
  const how = '<br><span class="note">Box: 25th to 75th percentile, black line: median, whiskers: 1st to 99th percentile. Each panel has its own scale.</span>';
  return figure(def.n, def.title, `${def.text} <span class="formula">${esc(STAGE_LABELS[def.stage])}</span>${how}`, spec ? await renderSvg(spec) : null,
    table(rows, [...STATS_COLUMNS, ...extra], 'Durations in µs; n = requests in the figure. Nearest-rank percentiles.'));
}

async function sharesFigure(groups: GroupSummary[]): Promise<string> {
  const spec = sharesSpec(groups);
  const measured = groups.filter((g) => g.measured > 0);
  const parts = PARTS;
  return figure(9, 'Each stage\'s share of the roundtrip',
    'Σ stage / Σ roundtrip per framework and endpoint. The seven stages add up to the roundtrip exactly, request by request.',
    spec ? await renderSvg(spec) : null,
    table(measured, [
      { head: 'endpoint', cell: (g) => esc(g.endpoint) },
      { head: 'framework', cell: (g) => esc(g.framework) },
      ...parts.map((p) => ({ head: esc(STAGE_NAMES[p]), cell: (g: GroupSummary) => fmtPct(g.shares[p]), num: true })),
      { head: 'outside function', cell: (g) => fmtPct(g.outside_function_share), num: true },
      { head: 'respond, median request', cell: (g) => fmtPct(g.median_respond_share), num: true },
    ]));
}

async function sweepFigure(points: SweepPoint[]): Promise<string> {
  const spec = sweepSpec(points);
  return figure(3, 'Throughput against concurrent connections',
    'Successful responses per second of the time the cell was measured (its caller runs, first send to last answer), for each connection count the caller ran.',
    spec ? await renderSvg(spec) : null,
    table(points, [
      { head: 'endpoint', cell: (p) => esc(p.endpoint) },
      { head: 'framework', cell: (p) => esc(p.framework) },
      { head: 'connections', cell: (p) => fmtInt(p.connections), num: true },
      { head: 'requests', cell: (p) => fmtInt(p.count), num: true },
      { head: 'req/s', cell: (p) => fmtInt(p.requests_per_s), num: true },
      { head: 'latency p50 µs', cell: (p) => fmtUs(p.p50_us), num: true },
      { head: 'latency p99 µs', cell: (p) => fmtUs(p.p99_us), num: true },
    ]));
}

function figure(n: number, title: string, text: string, svg: string | null, numbers: string): string {
  return `<section class="figure"><h2>Figure ${n}. ${esc(title)}</h2><p>${text}</p>
<div class="chart">${svg ?? '<p class="empty">No data for this figure.</p>'}</div>
${numbers}</section>`;
}

function allStagesSection(groups: GroupSummary[]): string {
  const rows = STAGES.flatMap((stage) => groups.filter((g) => g.stages[stage]).map((g) => ({ g, stage })));
  return `<section><h2>Every stage</h2><details><summary>All stages, all cells (µs)</summary>
${table(rows, [{ head: 'stage', cell: (r) => esc(STAGE_NAMES[r.stage]) }, ...STATS_COLUMNS])}</details></section>`;
}

function methodSection(s: Summary): string {
  return `<section class="method"><h2>Method</h2><dl>${Object.entries(s.method)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('')}</dl>
<p>Offsets are in ${esc(s.units.offsets)}, durations in ${esc(s.units.durations)}. Per-request data: <code>requests.csv</code>; all figures: <code>summary.json</code>.
Stage formulas: ${STAGES.map((st) => esc(STAGE_LABELS[st])).join('; ')}.</p></section>`;
}

