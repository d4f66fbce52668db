/**
 * requests.csv: one row per joined request (caller + gateway records) and per
 * request of a caller-only run, warm-up included and flagged, every stamp
 * exactly as the host wrote it (ns) and every stage in ns. `measured` marks
 * the rows behind the figures, so `df[df.measured].latency_ns.median()`
 * reproduces the report. `time_ms`: when the request was sent, epoch ms, from
 * the caller's clock anchor (empty without one); `round` and `cell` place it
 * in the run (runs.ts).
 * RFC 4180: comma-separated, header row, fields quoted only when needed;
 * text that a spreadsheet would run as a formula is neutralised (quote()).
 * A path ending in .gz is gzipped (pandas, polars and DuckDB read it as is).
 */
import { cellKey, type CallerRuns } from '../read/runs.js';
import { stageAt } from '../compute/stage-columns.js';
import { textOut } from './text-out.js';
import { STAGES } from '../compute/stages.js';
import { KERNEL_STAMPS, type KernelStamp } from '../read/kernel-join.js';
import { HAS_CALLER, HAS_GATEWAY, RequestTable, WARMUP } from '../read/table.js';

export const STAMPS = ['t0_intended', 't0', 't1', 't2', 't3_recv', 't3_start', 't3_end', 't3_send', 't4', 't5', 't6'] as const;

export const CSV_COLUMNS: readonly string[] = [
  'id', 'time_ms', 'round', 'cell', 'framework', 'endpoint', 'method', 'path', 'connections', 'label', 'warmup', 'measured',
  'caller_host', 'gateway_host', 'worker_host', 'worker_address',
  'caller_status', 'gateway_status', 'caller_error', 'gateway_error', 'worker_error', 'bytes',
  ...STAMPS,
  ...STAGES.map((s) => `${s}_ns`),
  // Kernel stamps last (empty without them): k1, k5, k4 on the gateway's clock, k6 on the caller's, k3 on the worker's.
  ...KERNEL_STAMPS,
];

/** ~100 KB a write: below V8's large-object size, so each chunk dies young instead of piling up until a full GC. */
const ROWS_PER_WRITE = 256;

/** Writes the CSV; returns the number of data rows. */
export async function writeRequestsCsv(
  path: string,
  t: RequestTable,
  measured: Uint8Array,
  runs: CallerRuns,
  wallShifts: ReadonlyMap<string, number>,
): Promise<number> {
  const out = textOut(path);
  const write = out.write;
  await write(CSV_COLUMNS.join(',') + '\n');
  const cell = memoCells(t);
  const runCells = runs.runs.map((r) => ({
    text: quote(cellKey(r.framework, r.endpoint, r.connections).replaceAll('\u0000', ' ')),
    framework: quote(r.framework),
    endpoint: quote(r.endpoint),
    round: String(r.round),
    wall: wallShifts.get(t.clockHost[r.clock] ?? ''),
    callerOnly: r.callerOnly,
  }));
  let rows = 0;
  let chunk: string[] = [];
  for (let i = 0; i < t.size; i++) {
    const flags = t.u8.flags[i]!;
    const run = runCells[runs.runOf[i]!];
    if (!run?.callerOnly && (flags & (HAS_CALLER | HAS_GATEWAY)) !== (HAS_CALLER | HAS_GATEWAY)) continue;
    chunk.push(row(t, i, flags, measured[i] === 1, cell, run));
    rows++;
    if (chunk.length === ROWS_PER_WRITE) {
      await write(chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length) await write(chunk.join(''));
  await out.close();
  return rows;
}

/** The quoted text of interned values, computed once per distinct value. */
function memoCells(t: RequestTable) {
  const memo = (get: (id: number) => string | null) => {
    const cache = new Map<number, string>();
    return (id: number) => {
      let v = cache.get(id);
      if (v === undefined) cache.set(id, (v = quote(get(id) ?? '')));
      return v;
    };
  };
  const method = memo((id) => splitRequest(t.requests.value(id))[0]);
  const path = memo((id) => splitRequest(t.requests.value(id))[1]);
  return {
    framework: memo((id) => t.frameworks.value(id)),
    fn: memo((id) => t.fns.value(id)),
    error: memo((id) => t.errors.value(id)),
    host: memo((id) => t.hosts.value(id)),
    label: memo((id) => t.labels.value(id)),
    clockHost: memo((id) => t.clockHost[id] ?? null),
    method,
    path,
  };
}

type RunCells = { text: string; framework: string; endpoint: string; round: string; wall: number | undefined; callerOnly: boolean };

function row(t: RequestTable, i: number, flags: number, isMeasured: boolean, c: ReturnType<typeof memoCells>, run: RunCells | undefined): string {
  const f = t.f64;
  const status = (s: number) => (s < 0 ? '' : String(s));
  const num = (v: number) => (v === v ? String(v) : '');
  const callerClock = t.u16.callerClock[i]!;
  const gatewayClock = t.u16.gatewayClock[i]!;
  const t3Clock = t.u16.t3Clock[i]!;
  const stamp = (name: (typeof STAMPS)[number]) => {
    const clock = name === 't0_intended' || name === 't0' || name === 't6' ? callerClock : name.startsWith('t3') ? t3Clock : gatewayClock;
    return t.clocks.text(clock, f[name][i]!);
  };
  const workerHost = t.u16.workerHost[i]!;
  const time = run?.wall === undefined ? '' : (t.clocks.absolute(callerClock, f.t0[i]!) / 1e6 + run.wall).toFixed(3);
  const names = run?.callerOnly ? `${run.framework},${run.endpoint}` : `${c.framework(t.u8.framework[i]!)},${c.fn(t.u8.fn[i]!)}`;
  let line =
    `${quote(t.id(i))},${time},${run?.round ?? ''},${run?.text ?? ''},${names},${c.method(t.u32.request[i]!)},${c.path(t.u32.request[i]!)},` +
    `${t.u32.connections[i] || ''},${c.label(t.u32.label[i]!)},${(flags & WARMUP) !== 0},${isMeasured},` +
    `${c.clockHost(callerClock)},${run?.callerOnly ? '' : c.clockHost(gatewayClock)},${workerHost ? c.host(workerHost) : ''},${c.host(t.u16.workerAddress[i]!)},` +
    `${status(t.i16.callerStatus[i]!)},${status(t.i16.gatewayStatus[i]!)},${c.error(t.u16.callerError[i]!)},` +
    `${c.error(t.u16.gatewayError[i]!)},${c.error(t.u16.workerError[i]!)},${num(f.bytes[i]!)}`;
  for (const name of STAMPS) line += `,${stamp(name)}`;
  for (const stage of STAGES) line += `,${num(stageAt(t, stage, i))}`;
  const k = t.kernel;
  if (k === null) return line + ',,,,,\n';
  const kernelClock = (name: KernelStamp) => (name === 'k6' ? callerClock : name === 'k3' ? t3Clock : gatewayClock);
  for (const name of KERNEL_STAMPS) line += `,${t.clocks.text(kernelClock(name), k[name][i]!)}`;
  return line + '\n';
}

function splitRequest(request: string | null): [string, string] {
  if (request === null) return ['', ''];
  const space = request.indexOf(' ');
  return [request.slice(0, space), request.slice(space + 1)];
}

/**
 * One text cell, RFC 4180-quoted when needed. A cell that begins with = + - @,
 * a tab or a CR is one a spreadsheet may run as a formula (CSV injection):
 * record strings come from hosts and clients the analyst may not control, so
 * such a cell gets a leading ' and quotes, OWASP's rule, and reads as text.
 * Only text cells: the numbers this file writes are never neutralised.
 */
export function quote(value: string): string {
  const c = value.charCodeAt(0);
  if (c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d) return `"'${value.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
