/**
 * requests.parquet: the rows and columns of requests.csv (csv.ts), typed, in
 * Parquet, which pandas, Polars, DuckDB and Arrow read natively. Stamps are
 * INT64 ns exactly as the host wrote them; stages DOUBLE ns (exact integers
 * below 2^53); absent values are null. Columns: docs/records.md.
 *
 * hyparquet-writer: pure JS, one dependency, ~1 MB installed. On 300,000
 * synthetic rows of this shape (quiet, load ~1.5) parquet-wasm + apache-arrow
 * (23 MB installed) wrote 12% faster (2.6-3.0 s against 3.1-3.3 s) and 14%
 * smaller at 40% more RSS; @dsnp/parquetjs pulls in the AWS S3 SDK. Row groups
 * of ROWS_PER_GROUP keep one group's columns in memory, not the table's.
 */
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import { fileWriter, ParquetWriter, schemaFromColumnData } from 'hyparquet-writer';
import { cellKey, type CallerRuns } from '../read/runs.js';
import { stageAt } from '../compute/stage-columns.js';
import { STAGES } from '../compute/stages.js';
import { KERNEL_STAMPS, type KernelStamp } from '../read/kernel-join.js';
import { HAS_CALLER, HAS_GATEWAY, RequestTable, WARMUP } from '../read/table.js';
import { CSV_COLUMNS, STAMPS } from './csv.js';
import { version } from '../../version.js';

const ROWS_PER_GROUP = 100_000;

type Type = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN';

/** Every column of requests.csv, in its order, with its Parquet type. */
export const PARQUET_COLUMNS: readonly (readonly [string, Type])[] = CSV_COLUMNS.map((name) => [name, typeOf(name)] as const);

function typeOf(name: string): Type {
  if (name === 'time_ms' || name.endsWith('_ns')) return 'DOUBLE';
  if (name === 'round' || name === 'connections' || name.endsWith('_status')) return 'INT32';
  if (name === 'bytes' || (STAMPS as readonly string[]).includes(name) || (KERNEL_STAMPS as readonly string[]).includes(name)) return 'INT64';
  if (name === 'warmup' || name === 'measured') return 'BOOLEAN';
  return 'STRING';
}

/** Writes the table; returns the number of rows (the same rows as requests.csv). */
export async function writeRequestsParquet(
  path: string,
  t: RequestTable,
  measured: Uint8Array,
  runs: CallerRuns,
  wallShifts: ReadonlyMap<string, number>,
): Promise<number> {
  const runCells = runs.runs.map((r) => ({
    cell: cellKey(r.framework, r.endpoint, r.connections).replaceAll('\u0000', ' '),
    framework: r.framework,
    endpoint: r.endpoint,
    round: r.round,
    wall: wallShifts.get(t.clockHost[r.clock] ?? ''),
    callerOnly: r.callerOnly,
  }));
  const requestParts = new Map<number, [string | null, string | null]>();
  const split = (id: number) => {
    let v = requestParts.get(id);
    if (v === undefined) {
      const text = t.requests.value(id);
      const space = text === null ? -1 : text.indexOf(' ');
      v = text === null ? [null, null] : space < 0 ? [null, text] : [text.slice(0, space), text.slice(space + 1)];
      requestParts.set(id, v);
    }
    return v;
  };
  const f = t.f64;
  const nonEmpty = (s: string | null | undefined) => (s === undefined || s === null || s === '' ? null : s);
  const num = (v: number) => (v === v ? v : null);
  const exact = (clock: number, v: number) => (v === v ? t.clocks.exact(clock, v) : null);

  let writer: ParquetWriter | undefined;
  let schema: SchemaElement[] | undefined;
  let rows = 0;
  let cols: unknown[][] = CSV_COLUMNS.map(() => []);
  let n = 0;
  const flush = async () => {
    if (n === 0) return;
    const columnData: ColumnSource[] = PARQUET_COLUMNS.map(([name, type], k) => ({ name, type, data: cols[k]!, nullable: true }));
    if (!writer) {
      schema = schemaFromColumnData({ columnData });
      writer = new ParquetWriter({
        writer: fileWriter(path),
        schema,
        createdBy: `faasbench ${version} (hyparquet-writer)`,
        kvMetadata: [{ key: 'faasbench.columns', value: 'docs/records.md#requestsparquet' }],
      });
    }
    await writer.write({ columnData, rowGroupSize: ROWS_PER_GROUP });
    cols = CSV_COLUMNS.map(() => []);
    n = 0;
  };

  for (let i = 0; i < t.size; i++) {
    const flags = t.u8.flags[i]!;
    const run = runCells[runs.runOf[i]!];
    if (!run?.callerOnly && (flags & (HAS_CALLER | HAS_GATEWAY)) !== (HAS_CALLER | HAS_GATEWAY)) continue;
    const callerClock = t.u16.callerClock[i]!;
    const gatewayClock = t.u16.gatewayClock[i]!;
    const t3Clock = t.u16.t3Clock[i]!;
    const workerHost = t.u16.workerHost[i]!;
    const [method, reqPath] = split(t.u32.request[i]!);
    const bytes = f.bytes[i]!;
    const values: unknown[] = [
      t.id(i),
      run?.wall === undefined ? null : Number((t.clocks.absolute(callerClock, f.t0[i]!) / 1e6 + run.wall).toFixed(3)),
      run?.round ?? null,
      run?.cell ?? null,
      run?.callerOnly ? run.framework : t.frameworks.value(t.u8.framework[i]!),
      run?.callerOnly ? run.endpoint : t.fns.value(t.u8.fn[i]!),
      method,
      reqPath,
      t.u32.connections[i] || null,
      nonEmpty(t.labels.value(t.u32.label[i]!)),
      (flags & WARMUP) !== 0,
      measured[i] === 1,
      nonEmpty(t.clockHost[callerClock]),
      run?.callerOnly ? null : nonEmpty(t.clockHost[gatewayClock]),
      workerHost ? nonEmpty(t.hosts.value(workerHost)) : null,
      nonEmpty(t.hosts.value(t.u16.workerAddress[i]!)),
      status(t.i16.callerStatus[i]!),
      status(t.i16.gatewayStatus[i]!),
      nonEmpty(t.errors.value(t.u16.callerError[i]!)),
      nonEmpty(t.errors.value(t.u16.gatewayError[i]!)),
      nonEmpty(t.errors.value(t.u16.workerError[i]!)),
      bytes === bytes ? BigInt(bytes) : null,
    ];
    for (const name of STAMPS) {
      const clock = name === 't0_intended' || name === 't0' || name === 't6' ? callerClock : name.startsWith('t3') ? t3Clock : gatewayClock;
      values.push(exact(clock, f[name][i]!));
    }
    for (const stage of STAGES) values.push(num(stageAt(t, stage, i)));
    // Kernel stamps last, as in the CSV: null without them.
    const k = t.kernel;
    for (const name of KERNEL_STAMPS) values.push(k === null ? null : exact(kernelClock(name, callerClock, t3Clock, gatewayClock), k[name][i]!));
    for (let k = 0; k < values.length; k++) cols[k]!.push(values[k]);
    n++;
    rows++;
    if (n === ROWS_PER_GROUP) await flush();
  }
  await flush();
  if (!writer) {
    // No rows: a file with the schema and no row group, so readers still see the columns.
    const columnData: ColumnSource[] = PARQUET_COLUMNS.map(([name, type]) => ({ name, type, data: [], nullable: true }));
    writer = new ParquetWriter({ writer: fileWriter(path), schema: schemaFromColumnData({ columnData }) });
  }
  await writer.finish();
  return rows;
}

/** k6 on the caller's clock, k3 on the worker's, k1, k5, k4 on the gateway's. */
function kernelClock(name: KernelStamp, caller: number, t3: number, gateway: number): number {
  return name === 'k6' ? caller : name === 'k3' ? t3 : gateway;
}

function status(s: number): number | null {
  return s < 0 ? null : s;
}
