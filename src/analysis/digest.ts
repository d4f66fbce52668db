/** The few lines `faasbench analyze` and `faasbench run` print when the report is written; record-derived text through printable(). */
import type { AnalyzeResult } from './analyze.js';
import type { Summary } from './compute/summary-types.js';
import { printable } from '../terminal-text.js';

const ms = (us: number | undefined) => (us === undefined ? '-' : (us / 1000).toFixed(2));
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');

/** framework × endpoint: requests, throughput, latency p50 and p99, share outside the function and in respond ("-" from caller records alone). */
export function formatGroupTable(summary: Summary): string {
  const rows = [['framework', 'endpoint', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'outside fn', 'in respond']];
  for (const g of summary.groups) {
    const rt = g.stages.latency;
    rows.push([
      printable(g.framework),
      printable(g.endpoint),
      String(g.measured),
      g.throughput.requests_per_s.toFixed(0),
      ms(rt?.p50),
      ms(rt?.p99),
      pct(g.outside_function_share),
      pct(g.respond_share),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function formatAnalysisDigest(result: AnalyzeResult): string {
  const { summary, files } = result;
  const j = summary.joins;
  const lines = [
    `requests: ${j.ids} ids, ${j.joined} joined (${j.joined_warmup} warm-up)${j.caller_only ? `, ${j.caller_only} from the caller alone (${j.caller_only_warmup} warm-up)` : ''}, ${j.measured} in the figures`,
    ...summary.warnings.map((w) => `warning: ${w}`),
    `report:  ${files.html}`,
    `summary: ${files.summary}`,
    ...(files.parquet ? [`parquet: ${files.parquet}`] : []),
    ...(files.csv ? [`csv:     ${files.csv}`] : []),
    ...(files.lifecycle ? [`instance figures: ${files.lifecycle}`] : []),
    ...(files.compose ? [`composition figures: ${files.compose}`] : []),
  ];
  return [formatGroupTable(summary), ...lines.map(printable)].join('\n') + '\n';
}
