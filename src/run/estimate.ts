/**
 * What `faasbench run` will write, said before it starts: the files, and
 * their expected size from the bytes a request costs in each (measured on
 * runs of this version) and the requests the cells will make.
 */
import type { Cell } from './config.js';

/** Bytes per request, measured on a --quick run: NDJSON of all three roles, the caller's alone, a requests.csv row. */
const BYTES = { records: 750, callerRecords: 220, csv: 330 };
/** The same, gzipped at zlib's fastest level (CSV 3.4×); records 68 B measured on the default run (npm run bench:size, 2026-12-07). */
const GZIP_BYTES = { records: 68, callerRecords: 17, csv: 100 };
/** A requests.parquet row (snappy, dictionaries): 102 B on that run. */
const PARQUET_BYTES = 102;
/** What duration-bound closed-loop cells are assumed to reach: the default run averaged ~4,800 req/s on a 2-core machine. */
export const ASSUMED_RATE = 5000;

export interface OutputEstimate {
  requests: number;
  /** Seconds of load the cells' durations and warm-ups fix (count-bound windows take what they take). */
  seconds: number;
  bytes: number;
  /** True when some cells are bound by duration, so `requests` rests on ASSUMED_RATE. */
  assumed: boolean;
}

export function estimateOutput(cells: readonly Cell[], o: { compress: boolean; remote: boolean; csv: boolean; parquet: boolean }): OutputEstimate {
  let requests = 0;
  let seconds = 0;
  let assumed = false;
  for (const c of cells) {
    const rate = c.rate ?? ASSUMED_RATE;
    if (c.rate === null && (c.requests === null || c.warmupMs > 0)) assumed = true;
    const window = c.requests ?? (rate * (c.durationMs ?? 0)) / 1000;
    requests += window + (rate * c.warmupMs) / 1000;
    seconds += (c.warmupMs + (c.durationMs ?? 0)) / 1000;
  }
  const b = o.compress ? GZIP_BYTES : BYTES;
  const perRequest = (o.remote ? b.callerRecords : b.records) + (o.csv ? b.csv : 0) + (o.parquet ? PARQUET_BYTES : 0);
  return { requests: Math.round(requests), seconds: Math.round(seconds), bytes: Math.round(requests * perRequest), assumed };
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB`;
  return `${Math.max(1, Math.round(n / 1e3))} kB`;
}

/** Two lines for the terminal: where the files go, and how big they are expected to be. */
export function describeOutput(out: string, cells: readonly Cell[], o: { compress: boolean; remote: boolean; analyze: boolean; csv?: boolean }): string[] {
  const gz = o.compress ? '.gz' : '';
  const records = o.remote ? `caller.ndjson${gz}` : `caller.ndjson${gz}, worker.ndjson${gz}, gateway-<framework>.ndjson${gz}`;
  const csv = o.analyze && o.csv === true;
  const report = o.analyze ? `, then report/ (report.html, summary.json, requests.parquet${csv ? `, requests.csv${gz}` : ''})` : '';
  const e = estimateOutput(cells, { ...o, csv, parquet: o.analyze });
  const basis = e.assumed ? `if the servers keep up ${ASSUMED_RATE.toLocaleString('en')} req/s where the load is closed-loop` : 'from the request counts';
  const other = estimateOutput(cells, { ...o, csv, parquet: o.analyze, compress: !o.compress });
  return [
    `writes to ${out}: run.json, ${records}${report}`,
    `expected size: about ${formatBytes(e.bytes)} for ~${e.requests.toLocaleString('en')} requests${e.seconds > 0 ? ` in ${e.seconds} s of timed load` : ''} (${basis}); ` +
      `${o.compress ? 'with --no-compress' : 'with --compress'} about ${formatBytes(other.bytes)}`,
  ];
}
