/**
 * `faasbench caller`: argument parsing over runCaller()/runSweep(), and
 * printing. All the work happens in the API; this file only translates.
 */
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { integerOption, MAX_TIMER_MS, parseDurationFlag } from '../flags.js';
import { DEFAULT_CALLER_URL } from '../contract/addresses.js';
import { withExamples, type Example } from '../command-line/examples.js';
import { EXIT_RUN_FAILED, RunFailure, UsageError } from '../usage-error.js';
import { TargetUnreachableError } from './load-loop.js';
import { CallerOptionsError, DEFAULTS, type CallerOptions } from './options.js';
import { progressLine } from './progress.js';
import { runCaller, type CallerResult } from './run-caller.js';
import { formatSummary, formatSweep, resultJson, sweepJson } from './summary.js';
import { runSweep } from './sweep.js';
import { describeVerdict, EXIT_THRESHOLDS_FAILED, failedRun, parseErrorRate, parseLatencyLimit, type ThresholdVerdict } from './thresholds.js';
import { parseConnections, parseHeader, parseStartAt, splitUrls } from './units.js';

interface CallerArgs {
  url?: string[];
  'start-at'?: string;
  connections: string;
  duration?: string;
  requests?: number;
  rate?: number;
  warmup: string;
  timeout: string;
  out?: string;
  json: boolean;
  label?: string;
  method: string;
  header?: string[];
  traceparent: boolean;
  'accept-encoding'?: string;
  secret?: string;
  'body-file'?: string;
  'max-error-rate'?: string;
  'max-p50'?: string;
  'max-p99'?: string;
  'max-p999'?: string;
  threshold?: string[];
  progress: boolean;
}

/** A duration a timer can honour; a fraction of a millisecond is allowed ("0.5ms") but not zero. */
const MEASURED = { min: 0.001, max: MAX_TIMER_MS };
/** One request every microsecond: beyond what one caller process can send. */
const MAX_RATE = 1_000_000;

const EXAMPLES: Example[] = [
  [`${DEFAULT_CALLER_URL}, 150 connections, 2 s warm-up, 10 s measured`, '$0 caller'],
  ['open loop at 500 req/s, a record per request', "$0 caller --url 'http://gw:8080/sleep?ms=5' --rate 500 --out c.ndjson"],
  ['a sweep: throughput and latency at each connection count', '$0 caller --connections 1,10,50,100,150,200,300'],
  [`exit ${EXIT_THRESHOLDS_FAILED} when more than 1% failed or p99 is over 20 ms`, '$0 caller --max-error-rate 1% --max-p99 20ms'],
];

export const callerCommand: CommandModule<object, CallerArgs> = {
  command: 'caller',
  describe: 'Generate HTTP load and keep a record of every request (closed or open loop)',
  builder: (y) => {
    const b = y
      .option('url', {
        type: 'string',
        array: true,
        // Applied in the handler: yargs would fill it in for a bare `--url` too.
        defaultDescription: DEFAULT_CALLER_URL,
        describe:
          'http:// URL to call; path and query are sent as given (default: a gateway started with its defaults). tcp://HOST:PORT/FUNCTION?ARGS speaks the RPC protocol: to `gateway --framework tcp`, or straight to a worker. ' +
          'Repeated, or a comma-separated list: the connections are spread over them round-robin (same protocol and path on each)',
      })
      .option('start-at', {
        type: 'string',
        describe: 'Start at this wall-clock time (ISO 8601 with a zone, e.g. 2026-11-26T17:00:00Z, or seconds since the epoch): connections open first, then the caller waits on its own clock. Give several callers the same time to run them in step',
      })
      .option('connections', {
        type: 'string',
        default: String(DEFAULTS.connections),
        describe: 'Keep-alive connections; a comma-separated list (1,10,50) runs a sweep, one run per count',
      })
      .option('duration', { type: 'string', defaultDescription: '10s', describe: 'Measured time after the warm-up (10s, 500ms, 2m)' })
      .option('requests', integerOption('requests', { min: 1, max: 1_000_000_000 }, 'Instead of --duration: this many measured requests'))
      .option('rate', {
        type: 'number',
        describe: 'Open loop: requests due evenly at R per second, latency from the due time. Default: closed loop',
      })
      .option('warmup', { type: 'string', default: `${DEFAULTS.warmupMs / 1000}s`, describe: 'Load before the measured window (recorded, flagged, left out of the figures)' })
      .option('timeout', { type: 'string', default: `${DEFAULTS.timeoutMs / 1000}s`, describe: 'Time limit of one request' })
      .option('out', { type: 'string', describe: 'Append one NDJSON record per request to this file (gzipped when it ends in .gz)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON on stdout' })
      .option('label', { type: 'string', describe: 'Copied onto every record (e.g. the framework under test)' })
      .option('method', { type: 'string', default: 'GET', describe: 'HTTP method' })
      .option('header', { type: 'string', array: true, alias: 'H', describe: 'Extra request header "name: value" (repeatable)' })
      .option('traceparent', {
        type: 'boolean',
        default: false,
        describe: 'Send a W3C traceparent header with every request, a new trace id each (kept on every record as trace_id)',
      })
      .option('accept-encoding', {
        type: 'string',
        describe: 'Ask for a compressed answer (gzip, br): sent as Accept-Encoding; the records then count the compressed bytes on the wire',
      })
      .option('secret', {
        type: 'string',
        default: process.env.FAASBENCH_SECRET,
        defaultDescription: '$FAASBENCH_SECRET',
        describe: 'tcp:// only: the shared secret a worker or TCP front requires',
      })
      .option('body-file', { type: 'string', describe: 'Send this file as the request body (e.g. an image for POST /image)' })
      .option('max-error-rate', { type: 'string', describe: `Threshold: fail (exit ${EXIT_THRESHOLDS_FAILED}) if more than this fraction of measured requests failed (0.01 or 1%)` })
      .option('max-p50', { type: 'string', describe: 'Threshold: fail if the measured p50 latency is above this (e.g. 5ms)' })
      .option('max-p99', { type: 'string', describe: 'Threshold: fail if the measured p99 latency is above this (e.g. 20ms)' })
      .option('max-p999', { type: 'string', describe: 'Threshold: fail if the measured p99.9 latency is above this' })
      .option('threshold', {
        type: 'string',
        array: true,
        describe: 'Threshold expression, k6-like (repeatable): METRIC<VALUE or <=, METRIC one of error_rate, p50, p90, p99, p999, max, mean; e.g. "p99<20ms"',
      })
      .option('progress', { type: 'boolean', default: process.stderr.isTTY === true, defaultDescription: 'on a terminal', describe: 'A line a second on stderr: req/s, p50 and p99, errors and in flight of that second' })
      .conflicts('duration', 'requests')
      .check((a) => {
        if (a.url !== undefined && (a.url.length === 0 || a.url.some((u) => u.trim() === ''))) throw new Error('--url needs a URL, such as http://127.0.0.1:8080/empty');
        parseConnections(a.connections);
        if (a.duration !== undefined) parseDurationFlag('duration', a.duration, MEASURED);
        parseDurationFlag('warmup', a.warmup, { min: 0, max: MAX_TIMER_MS });
        parseDurationFlag('timeout', a.timeout, MEASURED);
        if (a.rate !== undefined && !(Number.isFinite(a.rate) && a.rate > 0 && a.rate <= MAX_RATE)) {
          throw new Error(`--rate must be a number of requests per second above 0 and at most ${MAX_RATE}`);
        }
        for (const h of a.header ?? []) parseHeader(h);
        if (a['start-at'] !== undefined) parseStartAt(a['start-at']);
        return true;
      });
    return withExamples(b, EXAMPLES);
  },
  handler: async (a) => {
    const options = toOptions(a);
    const counts = parseConnections(a.connections);
    const abort = new AbortController();
    const onSignal = () => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write('\nstopping: finishing the requests in flight and writing the records (again to quit at once)\n');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = a.progress ? progressLine(process.stderr) : null;
    try {
      if (counts.length === 1) {
        const result = await runCaller({ ...options, connections: counts[0], signal: abort.signal, onProgress: progress?.update });
        process.stdout.write(a.json ? JSON.stringify(resultJson(result), null, 2) + '\n' : formatSummary(result));
        if (a.json && result.bottleneck.flagged) process.stderr.write(`faasbench caller: WARNING ${result.bottleneck.reason}\n`);
        reportFailedRun(result);
        reportThresholds(result.thresholds);
      } else {
        const rows = await runSweep({
          ...options,
          connections: counts,
          signal: abort.signal,
          onProgress: progress?.update,
          onRow: (row) => {
            if (!a.json) process.stderr.write(`done: ${row.connections} connections, ${row.throughput.toFixed(1)} req/s\n`);
          },
        });
        process.stdout.write(a.json ? JSON.stringify(sweepJson(rows), null, 2) + '\n' : formatSweep(rows));
        for (const row of rows) {
          reportFailedRun(row.result, `${row.connections} connections: `);
          reportThresholds(row.result.thresholds, `${row.connections} connections: `);
        }
      }
    } catch (err) {
      if (err instanceof CallerOptionsError) throw new UsageError(err.message);
      if (err instanceof TargetUnreachableError) throw new RunFailure(err.message);
      // The record file cannot be opened: the user's path, not a bug.
      if (typeof (err as NodeJS.ErrnoException).syscall === 'string') throw new UsageError((err as Error).message);
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

function toOptions(a: CallerArgs): Omit<CallerOptions, 'connections'> {
  let body: Buffer | undefined;
  if (a['body-file'] !== undefined) {
    try {
      body = readFileSync(a['body-file']);
    } catch (err) {
      throw new UsageError(`cannot read --body-file: ${(err as Error).message}`);
    }
  }
  return {
    url: splitUrls(a.url ?? [DEFAULT_CALLER_URL]),
    startAt: a['start-at'] === undefined ? undefined : parseStartAt(a['start-at']),
    durationMs: a.duration === undefined ? undefined : parseDurationFlag('duration', a.duration, MEASURED),
    requests: a.requests,
    rate: a.rate,
    warmupMs: parseDurationFlag('warmup', a.warmup, { min: 0, max: MAX_TIMER_MS }),
    timeoutMs: parseDurationFlag('timeout', a.timeout, MEASURED),
    out: a.out,
    label: a.label,
    method: a.method,
    headers: Object.fromEntries((a.header ?? []).map(parseHeader)),
    traceparent: a.traceparent,
    acceptEncoding: a['accept-encoding'],
    secret: a.secret === '' ? undefined : a.secret,
    body,
    thresholds: thresholdsOf(a),
  };
}

/** The --max-* shorthands as threshold expressions (value at most the limit passes), then the --threshold expressions. */
function thresholdsOf(a: CallerArgs): string[] {
  const out: string[] = [];
  const flag = (name: 'max-error-rate' | 'max-p50' | 'max-p99' | 'max-p999', parse: (v: string) => number, metric: string) => {
    const value: unknown = a[name];
    if (value === undefined) return;
    if (typeof value !== 'string') throw new UsageError(`--${name} is given more than once`);
    try {
      parse(value);
    } catch (err) {
      throw new UsageError(`--${name}: ${(err as Error).message}`);
    }
    out.push(`${metric}<=${value.trim()}`);
  };
  flag('max-error-rate', parseErrorRate, 'error_rate');
  flag('max-p50', parseLatencyLimit, 'p50');
  flag('max-p99', parseLatencyLimit, 'p99');
  flag('max-p999', parseLatencyLimit, 'p999');
  return [...out, ...(a.threshold ?? [])];
}

/** A run that measured nothing but errors: one line on stderr, and exit code 1 (unless a threshold sets 99). */
function reportFailedRun(result: CallerResult, prefix = ''): void {
  const why = failedRun(result);
  if (why === null) return;
  process.stderr.write(`faasbench caller: ${prefix}${why}\n`);
  if (process.exitCode !== EXIT_THRESHOLDS_FAILED) process.exitCode = EXIT_RUN_FAILED;
}

/** One line per failed threshold on stderr, and exit code 99. */
function reportThresholds(verdicts: readonly ThresholdVerdict[], prefix = ''): void {
  const failed = verdicts.filter((v) => !v.ok);
  for (const v of failed) process.stderr.write(`faasbench caller: ${prefix}threshold failed: ${describeVerdict(v)}\n`);
  if (failed.length > 0) process.exitCode = EXIT_THRESHOLDS_FAILED;
}
