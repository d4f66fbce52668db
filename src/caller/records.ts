/**
 * The caller's record: one NDJSON line per request, warm-up and failures
 * included. Part of the public record contract (see src/trace/records.ts and
 * README.md "Records"); the analysis joins it to the gateway's and worker's
 * records by `id`. Change names only together with the analysis.
 *
 *   {"role":"caller","host":"h1","id":"c1a2b3c4d5e6f-2s","method":"GET","path":"/empty?x=1",
 *    "connections":150,"warmup":false,"status":200,"bytes":123,"error":null,
 *    "t0":"<ns>","t6":"<ns>","t0_intended":"<ns>","label":"..."}
 *
 * - t0: request handed to the socket; t6: response fully received, or for a
 *   failure the moment it failed. Monotonic ns of this host, decimal strings.
 * - t0_intended: only in open-loop runs, when the request was due.
 * - status: 0 when no response came. bytes: response bytes received on the
 *   wire (status line, headers and body; for a failure, what had arrived).
 * - error: null, or a short lowercase class: "timeout", "econnrefused",
 *   "econnreset", "socket_closed", "parse_error", "aborted", or another
 *   lowercased socket error code.
 * - label: only when the run was given one.
 */
import { stampText } from '../trace/clock.js';
import { HOST } from '../trace/records.js';

/** What is fixed for a whole run: rendered once, not per request. */
export interface CallerRunFields {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  connections: number;
  label?: string | undefined;
}

/** What differs per request. */
export interface CallerOutcome {
  id: string;
  warmup: boolean;
  status: number;
  bytes: number;
  error: string | null;
  t0: bigint;
  t6: bigint;
  t0_intended: bigint | null;
}

export type CallerRecord = CallerRunFields & CallerOutcome;

/**
 * The hot-path formatter: the run's constant parts are rendered once, so a
 * record costs a few string concatenations (pino's habit: format now,
 * interpret later).
 */
export function callerRecordFormatter(run: CallerRunFields): (r: CallerOutcome) => string {
  const head = `{"role":"caller","host":${JSON.stringify(HOST)},"id":`;
  const fixed =
    `,"method":${JSON.stringify(run.method)},"path":${JSON.stringify(run.path)}` +
    `,"connections":${run.connections},"warmup":`;
  const tail = run.label === undefined ? '}\n' : `,"label":${JSON.stringify(run.label)}}\n`;
  return (r) =>
    head +
    JSON.stringify(r.id) +
    fixed +
    (r.warmup ? 'true' : 'false') +
    `,"status":${r.status},"bytes":${r.bytes},"error":${r.error === null ? 'null' : JSON.stringify(r.error)}` +
    `,"t0":${stampText(r.t0)},"t6":${stampText(r.t6)}` +
    (r.t0_intended === null ? '' : `,"t0_intended":${stampText(r.t0_intended)}`) +
    tail;
}

export function formatCallerRecord(r: CallerRecord): string {
  return callerRecordFormatter(r)(r);
}
