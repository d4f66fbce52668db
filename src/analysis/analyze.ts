/**
 * analyze(): records in, report.html + summary.json + requests.csv out.
 * The `faasbench analyze` command and `faasbench run` are thin layers over it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { version } from '../version.js';
import { isGzipFile } from '../trace/records.js';
import { writeRequestsCsv } from './present/csv.js';
import { writeRequestsParquet } from './present/parquet.js';
import { Ingest } from './read/ingest.js';
import { AnalysisInputError, findInputs } from './read/inputs.js';
import { joinRequests, UNROUTED } from './read/join.js';
import { joinKernel } from './read/kernel-join.js';
import { kernelWarnings, summarizeKernel } from './compute/kernel-summary.js';
import { readLines } from './read/ndjson.js';
import { estimateOffsets } from './compute/offsets.js';
import { writeOtlp } from './present/otlp.js';
import { renderReport } from './present/report/render.js';
import { renderLifecycle } from './present/report/instance-experiments.js';
import { writeComposeReport } from './present/report/composition.js';
import { COMPOSE_PLAN } from './compute/composition-cells.js';
import { callsOf, instanceExperimentOf, lifecycleOf } from './compute/instance-experiments.js';
import { scaleWarnings, summarizeScale } from './compute/scale.js';
import type { Stage } from './compute/stages.js';
import { summarize } from './compute/summarize.js';
import { SortedCache } from './compute/sorted-cache.js';
import { SUMMARY_SCHEMA, type Summary } from './compute/summary-types.js';
import { callerRuns } from './read/runs.js';
import { RequestTable } from './read/table.js';
import { timelineOf, wallShifts } from './compute/timeline.js';
import { collectWarnings, METHOD } from './compute/warnings.js';
import { callerChecksOf, callerCheckWarnings } from './compute/caller-checks.js';

export interface AnalyzeOptions {
  /** Directories (searched recursively for *.ndjson / *.jsonl and run.json) or single record files. */
  inputs: string[];
  /** Output directory; default `<first input>/report` (beside a file input: its directory's `report`). */
  out?: string;
  /** The framework every other is compared against; default "node". */
  baseline?: string;
  /** Stages whose medians are compared with the baseline; default latency (the roundtrip, from the due time in open loop), gateway_in, respond. */
  compareStages?: Stage[];
  /** Bootstrap resamples (default 2000), confidence (default 0.95), PRNG seed (default 1). */
  resamples?: number;
  confidence?: number;
  randomSeed?: number;
  /** Callers whose first measured requests went out further apart than this are warned about; default 100 ms. */
  startToleranceMs?: number;
  /** Write requests.parquet (default true). */
  parquet?: boolean;
  /** Write requests.csv too (default false). */
  csv?: boolean;
  /** Also write every joined request as an OTLP/JSON trace to this file. */
  otlp?: string;
  /** Gzip it: requests.csv.gz (default false). */
  compress?: boolean;
  /** Called now and then with what is going on, for a progress display. */
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  phase: 'read' | 'join' | 'figures' | 'parquet' | 'csv' | 'report';
  /** Bytes of record files read so far, and in all. */
  bytes: number;
  totalBytes: number;
  lines: number;
}

export interface AnalyzeResult {
  summary: Summary;
  out: string;
  /**
   * lifecycle: the instance experiments' page (and lifecycle.json beside it), when the records hold one;
   * compose: the composition experiment's (and compose.json), when a record directory holds its plan.
   */
  files: { html: string; summary: string; parquet: string | null; csv: string | null; lifecycle: string | null; compose: string | null };
}

/** Rough bytes of NDJSON per request (three roles' lines): sizes the columns so they rarely grow. */
const BYTES_PER_REQUEST = 750;
/** Rough size ratio of gzipped records (measured 6× for gateway and worker, 11× for caller records). */
const GZIP_RATIO = 7;

export async function analyze(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const out = resolve(options.out ?? defaultOut(options.inputs));
  const inputs = await findInputs(options.inputs, [out]);
  if (inputs.files.length === 0) {
    throw new AnalysisInputError(`no record files (*.ndjson, *.jsonl, or .gz) under ${options.inputs.join(', ')}`);
  }
  const totalBytes = inputs.files.reduce((n, f) => n + f.bytes, 0);
  const recordBytes = inputs.files.reduce((n, f) => n + (isGzipFile(f.path) ? GZIP_RATIO : 1) * f.bytes, 0);
  const table = new RequestTable((recordBytes / BYTES_PER_REQUEST) * 1.1);
  const ingest = new Ingest(table);
  const progress = (phase: Progress['phase'], bytes = totalBytes) =>
    options.onProgress?.({ phase, bytes, totalBytes, lines: ingest.counts.lines });

  const fileLines: { path: string; bytes: number; lines: number }[] = [];
  const torn: string[] = [];
  let done = 0;
  for (const file of inputs.files) {
    const before = ingest.counts.lines;
    await readLines(file.path, {
      scan: (buf, start, n) => ingest.scan(buf, start, file.path, n),
      line: (buf, start, end, n) => ingest.bytes(buf, start, end, file.path, n),
      progress: (bytes) => progress('read', done + bytes),
      unterminated: (n) => torn.push(`${file.path} (line ${n})`),
    });
    done += file.bytes;
    fileLines.push({ path: file.path, bytes: file.bytes, lines: ingest.counts.lines - before });
  }
  const c = ingest.counts;
  if (c.records.caller + c.records.gateway + c.records.worker === 0) {
    const rejected = Object.entries(c.rejected).map(([why, n]) => `${n} ${why}`).join(', ');
    throw new AnalysisInputError(
      `no records in ${inputs.files.length} file(s) under ${options.inputs.join(', ')}` + (rejected ? ` (lines skipped: ${rejected})` : ''),
    );
  }

  progress('join');
  table.sealed();
  const kernel = ingest.kernel.any ? joinKernel(table, ingest.kernel) : null;
  if (kernel) table.kernel = kernel.columns;
  const runs = callerRuns(table, UNROUTED);
  const joined = joinRequests(table, runs);
  const offsets = estimateOffsets(table);
  progress('figures');
  const baseline = options.baseline ?? 'node';
  const sortedCache = new SortedCache();
  const figures = summarize(table, joined, runs, ingest.samples, {
    baseline,
    compareStages: options.compareStages ?? ['latency', 'gateway_in', 'respond'],
    resamples: options.resamples ?? 2000,
    confidence: options.confidence ?? 0.95,
    randomSeed: options.randomSeed ?? 1,
  }, sortedCache);
  const summary: Summary = {
    schema: SUMMARY_SCHEMA,
    generated_at: new Date().toISOString(),
    faasbench_version: version,
    inputs: { paths: options.inputs.map((p) => resolve(p)), files: fileLines },
    run: inputs.runs.find((r) => r.meta !== null)?.meta ?? null,
    runs: inputs.runs,
    units: { durations: 'µs', offsets: 'ns', throughput: 'requests/s', csv_stamps_and_stages: 'ns' },
    method: METHOD,
    records: {
      lines: c.lines,
      by_role: c.records,
      duplicates: c.duplicates,
      rejected: c.rejected,
      rejected_examples: c.examples,
      worker_copy_mismatch: c.workerCopyMismatch,
      stamps_as_inexact_json_numbers: table.clocks.inexactNumbers,
      samples: c.samples,
      nested_calls: { gateway: c.nested.gateway, worker: c.nested.worker },
    },
    joins: joined.counts,
    answer: figures.answer,
    groups: figures.groups,
    comparisons: figures.comparisons,
    sweep: figures.sweep,
    cells: figures.cells,
    caller_checks: callerChecksOf(inputs.runs),
    timeline: timelineOf(table, joined, runs, ingest.samples, offsets, ingest.anchors),
    clock_offsets: offsets,
    scale: summarizeScale(table, joined.groups, runs.runOf, offsets, options.startToleranceMs, sortedCache),
    kernel: kernel ? summarizeKernel(table, ingest.kernel, kernel.counts, joined.measured) : null,
    warnings: [],
  };
  summary.warnings = [
    ...collectWarnings(summary, baseline),
    ...scaleWarnings(summary.scale),
    ...callerCheckWarnings(summary.caller_checks),
    ...(summary.kernel ? kernelWarnings(summary.kernel) : []),
  ];
  // A composition experiment's plan sits beside its records; one page per analysis, as for lifecycle.html.
  const composeDirs = [...new Set(inputs.files.map((f) => dirname(f.path)))].filter((d) => existsSync(join(d, COMPOSE_PLAN)));
  if (composeDirs.length > 1) {
    summary.warnings.push(`${composeDirs.length} directories hold a composition experiment (${composeDirs.join(', ')}): compose.html shows only the first; analyse each alone.`);
  }
  if (torn.length > 0) {
    summary.warnings.unshift(
      `${torn.length} file(s) end in the middle of a line, so their writer stopped mid-record (killed, or out of disk): ${torn.join(', ')}.`,
    );
  }

  await mkdir(out, { recursive: true });
  const experiment = instanceExperimentOf(summary.run, table);
  const files = {
    html: join(out, 'report.html'),
    summary: join(out, 'summary.json'),
    parquet: options.parquet === false ? null : join(out, 'requests.parquet'),
    csv: options.csv === true ? join(out, options.compress ? 'requests.csv.gz' : 'requests.csv') : null,
    lifecycle: experiment === null ? null : join(out, 'lifecycle.html'),
    compose: null as string | null,
  };
  // The per-request tables and the pages at once: the Parquet writer waits on gzip (libuv's pool, the
  // other core) between row groups, and the report's rendering fills those waits. Each file is written
  // by one chain alone, so every byte is as when they ran one after the other.
  const tables = async () => {
    if (files.parquet) {
      progress('parquet');
      await writeRequestsParquet(files.parquet, table, joined.measured, runs, wallShifts(ingest.anchors));
    }
    if (files.csv) {
      progress('csv');
      await writeRequestsCsv(files.csv, table, joined.measured, runs, wallShifts(ingest.anchors));
    }
    if (options.otlp) await writeOtlp(resolve(options.otlp), table, wallAnchorNs(summary.run));
  };
  const pages = async () => {
    // Let the tables' first row group start (and its gzip with it) before the pages take the thread.
    await new Promise<void>((done) => setImmediate(done));
    progress('report');
    await writeFile(files.summary, JSON.stringify(summary, null, 2) + '\n');
    await writeFile(files.html, await renderReport(summary));
    if (experiment !== null && files.lifecycle !== null) {
      const lifecycle = lifecycleOf(experiment, table, callsOf(table), ingest.samples);
      await writeFile(join(out, 'lifecycle.json'), `${JSON.stringify(lifecycle.figures, null, 2)}\n`);
      await writeFile(files.lifecycle, await renderLifecycle(lifecycle));
    }
  };
  const failed = (await Promise.allSettled([tables(), pages()])).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (composeDirs[0] !== undefined) files.compose = await writeComposeReport(composeDirs[0], out);
  return { summary, out, files };
}

/** Wall time for the first request of the OTLP export: the run's start from run.json, else now (records keep no wall time). */
function wallAnchorNs(run: unknown): bigint {
  const started = Date.parse(String((run as { startedAt?: unknown } | null)?.startedAt ?? ''));
  return BigInt(Number.isFinite(started) ? started : Date.now()) * 1_000_000n;
}

/** `<first input>/report`, or beside a file given as input. */
export function defaultOut(inputs: readonly string[]): string {
  const first = inputs[0];
  if (first === undefined) return 'report';
  let isFile = false;
  try {
    isFile = statSync(first).isFile();
  } catch {
    // Missing input: findInputs reports it properly.
  }
  return join(isFile ? dirname(first) : first, 'report');
}
