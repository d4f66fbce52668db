/**
 * `faasbench caller`: argument parsing over runCaller()/runSweep(), and
 * printing. All the work happens in the API; this file only translates.
 */
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { DEFAULT_CALLER_URL, UsageError } from '../commands.js';
import { CallerOptionsError, DEFAULTS, type CallerOptions } from './options.js';
import { progressLine } from './progress.js';
import { runCaller } from './run-caller.js';
import { formatSummary, formatSweep } from './summary.js';
import { runSweep } from './sweep.js';
import { parseConnections, parseDuration, parseHeader } from './units.js';

interface CallerArgs {
  url: string;
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
  'body-file'?: string;
  progress: boolean;
}

const EXAMPLES: [string, string][] = [
  ['$0 caller', `${DEFAULT_CALLER_URL}, 150 connections, closed loop, 2 s warm-up + 10 s`],
  ['$0 caller --url http://gw:8080/sleep?ms=20 --rate 500 --duration 30s --out caller.ndjson', 'open loop, 500 req/s, with records'],
  ['$0 caller --url http://gw:8080/empty --connections 1,10,50,100,150,200,300', 'sweep: throughput and latency per count'],
];

export const callerCommand: CommandModule<object, CallerArgs> = {
  command: 'caller',
  describe: 'Generate HTTP load and keep a record of every request (closed or open loop)',
  builder: (y) => {
    let b = y
      .option('url', {
        type: 'string',
        default: DEFAULT_CALLER_URL,
        describe: 'http:// URL to call; path and query are sent as given (default: a gateway started with its defaults)',
      })
      .option('connections', {
        type: 'string',
        default: String(DEFAULTS.connections),
        describe: 'Keep-alive connections; a comma-separated list (1,10,50) runs a sweep, one run per count',
      })
      .option('duration', { type: 'string', defaultDescription: '10s', describe: 'Measured time after the warm-up (10s, 500ms, 2m)' })
      .option('requests', { type: 'number', describe: 'Instead of --duration: this many measured requests' })
      .option('rate', {
        type: 'number',
        describe: 'Open loop: requests due evenly at R per second, latency from the due time. Default: closed loop',
      })
      .option('warmup', { type: 'string', default: `${DEFAULTS.warmupMs / 1000}s`, describe: 'Load before the measured window (recorded, flagged, left out of the figures)' })
      .option('timeout', { type: 'string', default: `${DEFAULTS.timeoutMs / 1000}s`, describe: 'Time limit of one request' })
      .option('out', { type: 'string', describe: 'Append one NDJSON record per request to this file' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the summary as JSON on stdout' })
      .option('label', { type: 'string', describe: 'Copied onto every record (e.g. the framework under test)' })
      .option('method', { type: 'string', default: 'GET', describe: 'HTTP method' })
      .option('header', { type: 'string', array: true, alias: 'H', describe: 'Extra request header "name: value" (repeatable)' })
      .option('body-file', { type: 'string', describe: 'Send this file as the request body (e.g. an image for POST /image)' })
      .option('progress', { type: 'boolean', default: process.stderr.isTTY === true, defaultDescription: 'on a terminal', describe: 'Progress line on stderr' })
      .conflicts('duration', 'requests')
      .check((a) => {
        parseConnections(a.connections);
        if (a.duration !== undefined) parseDuration(a.duration, '--duration');
        parseDuration(a.warmup, '--warmup');
        if (!(parseDuration(a.timeout, '--timeout') > 0)) throw new Error('--timeout must be positive');
        if (a.requests !== undefined && !(Number.isInteger(a.requests) && a.requests > 0)) throw new Error('--requests must be a positive integer');
        if (a.rate !== undefined && !(Number.isFinite(a.rate) && a.rate > 0)) throw new Error('--rate must be a positive number of requests per second');
        for (const h of a.header ?? []) parseHeader(h);
        return true;
      });
    for (const [cmd, what] of EXAMPLES) b = b.example(cmd, what);
    return b;
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
        progress?.done();
        process.stdout.write(a.json ? JSON.stringify(result, null, 2) + '\n' : formatSummary(result));
        if (a.json && result.bottleneck.flagged) process.stderr.write(`faasbench caller: WARNING ${result.bottleneck.reason}\n`);
        if (result.requests > 0 && result.responses === 0) {
          process.stderr.write(`faasbench caller: no request was answered (${Object.keys(result.errors).join(', ')})\n`);
          process.exitCode = 1;
        }
      } else {
        const rows = await runSweep({
          ...options,
          connections: counts,
          signal: abort.signal,
          onProgress: progress?.update,
          onRow: (row) => {
            progress?.done();
            if (!a.json) process.stderr.write(`done: ${row.connections} connections, ${row.throughput.toFixed(1)} req/s\n`);
          },
        });
        process.stdout.write(a.json ? JSON.stringify(rows, null, 2) + '\n' : formatSweep(rows));
      }
    } catch (err) {
      if (err instanceof CallerOptionsError) throw new UsageError(err.message);
      throw err;
    } finally {
      progress?.done();
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
    url: a.url,
    durationMs: a.duration === undefined ? undefined : parseDuration(a.duration, '--duration'),
    requests: a.requests,
    rate: a.rate,
    warmupMs: parseDuration(a.warmup, '--warmup'),
    timeoutMs: parseDuration(a.timeout, '--timeout'),
    out: a.out,
    label: a.label,
    method: a.method,
    headers: Object.fromEntries((a.header ?? []).map(parseHeader)),
    body,
  };
}
