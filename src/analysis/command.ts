/**
 * `faasbench analyze DIR...`: argument parsing over analyze(), a progress
 * line on a terminal, and where the outputs went.
 */
import type { CommandModule } from 'yargs';
import { integerOption, MAX_TIMER_MS, parseDurationFlag } from '../flags.js';
import { withExamples, type Example } from '../command-line/examples.js';
import { UsageError } from '../usage-error.js';
import type { Progress } from './analyze.js';
import { AnalysisInputError } from './read/inputs.js';
import { formatAnalysisDigest } from './digest.js';
import { printable } from '../terminal-text.js';

interface AnalyzeArgs {
  dirs?: string[];
  out?: string;
  baseline: string;
  resamples: number;
  parquet: boolean;
  csv: boolean;
  compress: boolean;
  json: boolean;
  'start-tolerance': string;
  otlp?: string;
}

const EXAMPLES: Example[] = [
  ['report.html, summary.json and requests.parquet in the run\'s report/', '$0 analyze results/2026-11-22T20-00-00Z'],
  ['records fetched from three hosts, the report in report/', '$0 analyze fetched/caller fetched/gateway fetched/worker --out report'],
];

/** A plural entry, which y18n reads as {one, other} though yargs' types allow a string only. */
const NO_RECORDS_TEXT = 'Name the records to analyse: got %s directories or files, need at least %s (e.g. results/<time>)';
const NO_RECORDS = { one: NO_RECORDS_TEXT, other: NO_RECORDS_TEXT } as unknown as string;

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <dirs..>',
  describe: 'Join caller, gateway and worker records by request id and report where the time went',
  builder: (y) =>
    withExamples(
      y
        // What is missing in our words, not yargs' "Not enough non-option arguments".
        .updateStrings({ 'Not enough non-option arguments: got %s, need at least %s': NO_RECORDS })
        .positional('dirs', {
          type: 'string',
          array: true,
          // Not yargs' [] for a variadic positional: the help would say [required] [default: []].
          default: undefined,
          describe: 'Directories searched recursively for *.ndjson / *.jsonl records, gzipped or not (and run.json), or record files',
        })
        .option('out', { type: 'string', describe: 'Output directory', defaultDescription: '<first DIR>/report' })
        .option('baseline', { type: 'string', default: 'node', describe: 'Framework the others are compared against' })
        // An array of this many doubles per comparison: 100 000 is 0.8 MB and plenty for a 95% interval.
        .option('resamples', integerOption('resamples', { min: 100, max: 100_000 }, 'Bootstrap resamples for the confidence intervals', 2000))
        .option('start-tolerance', {
          type: 'string',
          default: '100ms',
          describe: 'Several callers: warn when one sent its first measured request later than the first caller by more than this',
        })
        .check((a) => (parseDurationFlag('start-tolerance', a['start-tolerance'], { min: 0, max: MAX_TIMER_MS }), true))
        .option('parquet', { type: 'boolean', default: true, describe: 'Write requests.parquet, one typed row per request (--no-parquet to skip)' })
        .option('csv', { type: 'boolean', default: false, describe: 'Also write the same table as requests.csv' })
        .option('compress', { type: 'boolean', default: false, describe: 'With --csv: write requests.csv.gz instead (about a third of the size)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print summary.json on stdout instead of the digest' })
        .option('otlp', { type: 'string', describe: 'Also write every joined request as an OpenTelemetry trace to this OTLP/JSON file (Jaeger, Grafana Tempo)' }),
      EXAMPLES,
    ),
  handler: async (a) => {
    const progress = process.stderr.isTTY ? progressPrinter() : undefined;
    try {
      // vega and the report load only when an analysis runs, not with every command.
      const { analyze } = await import('./analyze.js');
      const result = await analyze({
        inputs: a.dirs ?? [],
        out: a.out,
        baseline: a.baseline,
        resamples: a.resamples,
        parquet: a.parquet,
        csv: a.csv,
        otlp: a.otlp,
        compress: a.compress,
        startToleranceMs: parseDurationFlag('start-tolerance', a['start-tolerance'], { min: 0, max: MAX_TIMER_MS }),
        onProgress: progress,
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      if (a.json) process.stdout.write(JSON.stringify(result.summary, null, 2) + '\n');
      else process.stdout.write(formatAnalysisDigest(result));
    } catch (err) {
      // Its message may name a file or quote a record: no control character reaches the terminal.
      if (err instanceof AnalysisInputError) throw new UsageError(printable(err.message));
      throw err;
    }
  },
};

/** Rewrites one stderr line at most five times a second. */
function progressPrinter(): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 200 && p.phase === 'read') return;
    last = now;
    const pct = p.totalBytes > 0 ? ((100 * p.bytes) / p.totalBytes).toFixed(0) : '100';
    process.stderr.write(`\r\x1b[Kanalyze: ${p.phase} ${pct}% (${p.lines.toLocaleString('en')} lines)`);
  };
}
