/**
 * requests.parquet: the rows and columns of requests.csv (csv.ts), typed, in
 * Parquet, which pandas, Polars, DuckDB and Arrow read natively. Stamps are
 * INT64 ns exactly as the host wrote them; stages DOUBLE ns (exact integers
 * below 2^53); absent values are null. Columns: docs/records.md.
 *
 * The column chunks are encoded here, straight from the table's typed arrays:
 * numbers as PLAIN bytes of one typed array per column, strings that repeat
 * (framework, host, error…) as a dictionary of the interned values and their
 * indexes, stamps as INT64 assembled from two 32-bit words (no BigInt per
 * value). hyparquet-writer (pure JS, ~1 MB installed) still writes the page
 * headers, level runs and footer; node:zlib compresses. Its own column path takes one
 * JS value per cell (null for absent, a BigInt per INT64) and walks each
 * several times: for 1.5 M rows it was ~30 s of a 47 s analysis.
 * Row groups of ROWS_PER_GROUP keep one group's columns in memory, not the
 * table's.
 */
import type { ColumnChunk, CompressionCodec, Encoding, RowGroup, SchemaElement } from 'hyparquet';
import type { ColumnSource, Writer } from 'hyparquet-writer';
import { fileWriter, schemaFromColumnData } from 'hyparquet-writer';
import { ByteWriter } from 'hyparquet-writer/src/bytewriter.js';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { cellKey, type CallerRuns } from '../read/runs.js';
import { stageAt } from '../compute/stage-columns.js';
import { STAGES, type Stage } from '../compute/stages.js';
import { KERNEL_STAMPS, type KernelStamp } from '../read/kernel-join.js';
import { HAS_CALLER, HAS_GATEWAY, RequestTable, WARMUP } from '../read/table.js';
import { CSV_COLUMNS, STAMPS } from './csv.js';
import { version } from '../../version.js';

const ROWS_PER_GROUP = 100_000;
/**
 * GZIP at level 1 through node:zlib, on libuv's pool while the next row group
 * is encoded. On this data (2 cores, loaded) hyparquet-writer's JS snappy ran
 * at 17-28 MB/s and made pages 0.62-0.71 of their size, zlib level 1 at 35-88 MB/s
 * and 0.43-0.44; level 6 no smaller and 5x slower.
 */
const CODEC: CompressionCodec = 'GZIP';
const gzipAsync = promisify(gzip);

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

/**
 * How one column's value of row `i` (a table slot, `r` its caller run) is
 * read; NaN / −1 / null stand for an absent value.
 *  - number: DOUBLE or INT32, NaN for null.
 *  - int64: a stamp relative to its clock's base (stamps.ts; `base` of a clock is exact), NaN for null.
 *  - bool: never null.
 *  - dict: a key into `text` (−1 for null): the interned value, so that each distinct value is looked up once per row group.
 *  - string: a distinct text per row (the id).
 */
type Reader =
  | { kind: 'number'; int: boolean; get: (i: number, r: RunCell | undefined) => number }
  | { kind: 'int64'; clock: (i: number) => number; get: (i: number) => number; base: (clock: number) => bigint }
  | { kind: 'bool'; get: (i: number) => boolean }
  | { kind: 'dict'; keys: number; key: (i: number, r: RunCell | undefined, run: number) => number; text: (key: number) => string | null }
  | { kind: 'string'; get: (i: number) => string | null };

interface RunCell {
  cell: string;
  framework: string;
  endpoint: string;
  round: number;
  wall: number | undefined;
  callerOnly: boolean;
}

/** Writes the table; returns the number of rows (the same rows as requests.csv). */
export async function writeRequestsParquet(
  path: string,
  t: RequestTable,
  measured: Uint8Array,
  runs: CallerRuns,
  wallShifts: ReadonlyMap<string, number>,
): Promise<number> {
  const runCells: RunCell[] = runs.runs.map((r) => ({
    cell: cellKey(r.framework, r.endpoint, r.connections).replaceAll('\u0000', ' '),
    framework: r.framework,
    endpoint: r.endpoint,
    round: r.round,
    wall: wallShifts.get(t.clockHost[r.clock] ?? ''),
    callerOnly: r.callerOnly,
  }));
  const readers = columnReaders(t, measured, runCells);
  const columnData: ColumnSource[] = PARQUET_COLUMNS.map(([name, type]) => ({ name, type, data: [], nullable: true }));
  const schema = schemaFromColumnData({ columnData });
  const writer = fileWriter(path);
  writer.appendUint32(0x31524150); // PAR1
  const rowGroups: RowGroup[] = [];
  const scratch = new Scratch();
  const slots = new Int32Array(ROWS_PER_GROUP);
  const runOfRow = new Int32Array(ROWS_PER_GROUP);
  let n = 0;
  let rows = 0;
  /** The previous row group, compressing on libuv's pool while this one is encoded. */
  let pending: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (n === 0) return;
    const chunks = readers.map((reader, c) => encodeChunk(schema[c + 1]!, reader, slots.subarray(0, n), runOfRow.subarray(0, n), runCells, scratch));
    const group = n;
    n = 0;
    const previous = pending;
    pending = (async () => {
      const compressed = await compressAll(chunks);
      await previous;
      const start = writer.offset;
      const columns = compressed.map((chunk) => writeChunk(writer, chunk));
      let bytes = 0n;
      for (const column of columns) bytes += column.meta_data!.total_uncompressed_size;
      rowGroups.push({ columns, total_byte_size: bytes, num_rows: BigInt(group), total_compressed_size: BigInt(writer.offset - start) });
    })();
    pending.catch(() => {}); // awaited below or by the next flush; not an unhandled rejection meanwhile
    // At most two groups in memory: wait for the one before this.
    await previous;
  };
  for (let i = 0; i < t.size; i++) {
    const flags = t.u8.flags[i]!;
    const run = runs.runOf[i]!;
    if (!runCells[run]?.callerOnly && (flags & (HAS_CALLER | HAS_GATEWAY)) !== (HAS_CALLER | HAS_GATEWAY)) continue;
    slots[n] = i;
    runOfRow[n] = run;
    n++;
    rows++;
    if (n === ROWS_PER_GROUP) await flush();
  }
  await flush();
  await pending;
  writeMetadata(writer, {
    version: 2,
    created_by: `faasbench ${version} (hyparquet-writer)`,
    schema,
    num_rows: BigInt(rows),
    row_groups: rowGroups,
    key_value_metadata: [{ key: 'faasbench.columns', value: 'docs/records.md#requestsparquet' }],
    metadata_length: 0,
  });
  writer.appendUint32(0x31524150);
  await writer.finish();
  return rows;
}

/** The reader of every column, in PARQUET_COLUMNS order. */
function columnReaders(t: RequestTable, measured: Uint8Array, runCells: readonly RunCell[]): Reader[] {
  const f = t.f64;
  const u16 = t.u16;
  const nonEmpty = (s: string | null | undefined) => (s === undefined || s === null || s === '' ? null : s);
  const splitRequest = (id: number): [string | null, string | null] => {
    const text = t.requests.value(id);
    const space = text === null ? -1 : text.indexOf(' ');
    return text === null ? [null, null] : space < 0 ? [null, text] : [text.slice(0, space), text.slice(space + 1)];
  };
  const runs = runCells.length;
  /** An interned column, or a caller-only run's own value (keys after the interner's). */
  const internedOrRun = (size: number, id: (i: number) => number, value: (id: number) => string | null, ofRun: (r: RunCell) => string): Reader => ({
    kind: 'dict',
    keys: size + runs,
    key: (i, r, run) => (r?.callerOnly ? size + run : id(i)),
    text: (key) => (key >= size ? ofRun(runCells[key - size]!) : value(key)),
  });
  const interned = (size: number, id: (i: number) => number, value: (id: number) => string | null): Reader => ({
    kind: 'dict',
    keys: size,
    key: (i) => id(i),
    text: (key) => nonEmpty(value(key)),
  });
  const clockHost = (id: number) => t.clockHost[id] ?? null;
  const byName: Record<string, Reader> = {
    id: { kind: 'string', get: (i) => t.id(i) },
    time_ms: {
      kind: 'number',
      int: false,
      get: (i, r) => (r?.wall === undefined ? NaN : Number((t.clocks.absolute(u16.callerClock[i]!, f.t0[i]!) / 1e6 + r.wall).toFixed(3))),
    },
    round: { kind: 'number', int: true, get: (_i, r) => (r === undefined ? NaN : r.round) },
    cell: { kind: 'dict', keys: runs, key: (_i, r, run) => (r === undefined ? -1 : run), text: (key) => runCells[key]!.cell },
    framework: internedOrRun(t.frameworks.size, (i) => t.u8.framework[i]!, (id) => t.frameworks.value(id), (r) => r.framework),
    endpoint: internedOrRun(t.fns.size, (i) => t.u8.fn[i]!, (id) => t.fns.value(id), (r) => r.endpoint),
    method: interned(t.requests.size, (i) => t.u32.request[i]!, (id) => splitRequest(id)[0]),
    path: interned(t.requests.size, (i) => t.u32.request[i]!, (id) => splitRequest(id)[1]),
    connections: { kind: 'number', int: true, get: (i) => t.u32.connections[i] || NaN },
    label: interned(t.labels.size, (i) => t.u32.label[i]!, (id) => t.labels.value(id)),
    warmup: { kind: 'bool', get: (i) => (t.u8.flags[i]! & WARMUP) !== 0 },
    measured: { kind: 'bool', get: (i) => measured[i] === 1 },
    caller_host: interned(t.clockHost.length, (i) => u16.callerClock[i]!, clockHost),
    gateway_host: {
      kind: 'dict',
      keys: t.clockHost.length,
      key: (i, r) => (r?.callerOnly ? -1 : u16.gatewayClock[i]!),
      text: (key) => nonEmpty(clockHost(key)),
    },
    worker_host: interned(t.hosts.size, (i) => u16.workerHost[i]!, (id) => (id === 0 ? null : t.hosts.value(id))),
    worker_address: interned(t.hosts.size, (i) => u16.workerAddress[i]!, (id) => t.hosts.value(id)),
    caller_status: { kind: 'number', int: true, get: (i) => status(t.i16.callerStatus[i]!) },
    gateway_status: { kind: 'number', int: true, get: (i) => status(t.i16.gatewayStatus[i]!) },
    caller_error: interned(t.errors.size, (i) => u16.callerError[i]!, (id) => t.errors.value(id)),
    gateway_error: interned(t.errors.size, (i) => u16.gatewayError[i]!, (id) => t.errors.value(id)),
    worker_error: interned(t.errors.size, (i) => u16.workerError[i]!, (id) => t.errors.value(id)),
    bytes: { kind: 'int64', clock: () => 0, get: (i) => f.bytes[i]!, base: () => 0n },
  };
  const base = (clock: number) => t.clocks.exact(clock, 0);
  for (const name of STAMPS) {
    const clock = name === 't0_intended' || name === 't0' || name === 't6' ? u16.callerClock : name.startsWith('t3') ? u16.t3Clock : u16.gatewayClock;
    const column = f[name];
    byName[name] = { kind: 'int64', clock: (i) => clock[i]!, get: (i) => column[i]!, base };
  }
  for (const stage of STAGES) byName[`${stage}_ns`] = { kind: 'number', int: false, get: stageReader(t, stage) };
  // Kernel stamps last, as in the CSV: null without them.
  for (const name of KERNEL_STAMPS) {
    const k = t.kernel;
    const clock = kernelClock(name, u16.callerClock, u16.t3Clock, u16.gatewayClock);
    byName[name] =
      k === null ? { kind: 'int64', clock: () => 0, get: () => NaN, base } : { kind: 'int64', clock: (i) => clock[i]!, get: (i) => k[name][i]!, base };
  }
  return PARQUET_COLUMNS.map(([name]) => byName[name]!);
}

function stageReader(t: RequestTable, stage: Stage): (i: number) => number {
  return (i) => stageAt(t, stage, i);
}

/** k6 on the caller's clock, k3 on the worker's, k1, k5, k4 on the gateway's. */
function kernelClock(name: KernelStamp, caller: Uint16Array, t3: Uint16Array, gateway: Uint16Array): Uint16Array {
  return name === 'k6' ? caller : name === 'k3' ? t3 : gateway;
}

function status(s: number): number {
  return s < 0 ? NaN : s;
}

/** Buffers reused from column to column and group to group. */
class Scratch {
  defs = new Uint8Array(ROWS_PER_GROUP);
  f64 = new Float64Array(ROWS_PER_GROUP);
  i32 = new Int32Array(ROWS_PER_GROUP);
  /** INT64 as little-endian word pairs. */
  u32 = new Uint32Array(2 * ROWS_PER_GROUP);
  bytes = new Uint8Array(ROWS_PER_GROUP);
  remap = new Int32Array(1024);
}

const TWO32 = 2 ** 32;

/** One column chunk of a row group, encoded: an optional dictionary page and one data page (v2), uncompressed. */
interface Chunk {
  element: SchemaElement;
  rows: number;
  nulls: number;
  encoding: Encoding;
  dictionary: { bytes: Uint8Array; count: number } | null;
  levels: Uint8Array;
  values: Uint8Array;
}

function encodeChunk(
  element: SchemaElement,
  reader: Reader,
  slots: Int32Array,
  runOfRow: Int32Array,
  runCells: readonly RunCell[],
  s: Scratch,
): Chunk {
  const n = slots.length;
  const defs = s.defs;
  let values: Uint8Array;
  let count = 0; // non-null values
  let dictionary: Uint8Array | null = null;
  let dictionarySize = 0;
  let encoding: Encoding = 'PLAIN';
  switch (reader.kind) {
    case 'number': {
      const get = reader.get;
      const out = reader.int ? s.i32 : s.f64;
      for (let k = 0; k < n; k++) {
        const v = get(slots[k]!, runCells[runOfRow[k]!]);
        if (v === v) {
          out[count++] = v;
          defs[k] = 1;
        } else defs[k] = 0;
      }
      values = new Uint8Array(out.buffer, 0, count * out.BYTES_PER_ELEMENT);
      break;
    }
    case 'int64': {
      const { get, clock, base: baseOf } = reader;
      const out = s.u32;
      // Each clock's base as two 32-bit words, looked up when the clock changes.
      let lastClock = -1;
      let baseHi = 0;
      let baseLo = 0;
      for (let k = 0; k < n; k++) {
        const i = slots[k]!;
        const v = get(i);
        if (v !== v) {
          defs[k] = 0;
          continue;
        }
        defs[k] = 1;
        const c = clock(i);
        if (c !== lastClock) {
          lastClock = c;
          const base = baseOf(c);
          baseHi = Number(BigInt.asIntN(64, base) >> 32n);
          baseLo = Number(base & 0xffffffffn);
        }
        // base + v, exactly: v is an integer below 2^53 in magnitude, split into words first.
        const vHi = Math.floor(v / TWO32);
        let lo = baseLo + (v - vHi * TWO32);
        let hi = baseHi + vHi;
        if (lo >= TWO32) {
          lo -= TWO32;
          hi += 1;
        }
        out[2 * count] = lo;
        out[2 * count + 1] = hi >>> 0;
        count++;
      }
      values = new Uint8Array(out.buffer, 0, count * 8);
      break;
    }
    case 'bool': {
      const get = reader.get;
      const out = s.bytes;
      out.fill(0, 0, (n + 7) >> 3);
      for (let k = 0; k < n; k++) {
        defs[k] = 1;
        if (get(slots[k]!)) out[k >> 3]! |= 1 << (k & 7);
      }
      count = n;
      values = new Uint8Array(out.buffer, 0, (n + 7) >> 3);
      break;
    }
    case 'dict': {
      // Interned keys → this chunk's dictionary indexes (−2: not seen yet).
      if (s.remap.length < reader.keys) s.remap = new Int32Array(Math.max(reader.keys, 2 * s.remap.length));
      const remap = s.remap;
      remap.fill(-2, 0, reader.keys);
      const byText = new Map<string, number>();
      const texts: string[] = [];
      const out = s.i32;
      const { key, text } = reader;
      for (let k = 0; k < n; k++) {
        const run = runOfRow[k]!;
        const kk = key(slots[k]!, runCells[run], run);
        let d = kk < 0 ? -1 : remap[kk]!;
        if (d === -2) {
          const value = text(kk);
          if (value === null) d = -1;
          else {
            d = byText.get(value) ?? -2;
            if (d === -2) {
              d = texts.length;
              texts.push(value);
              byText.set(value, d);
            }
          }
          remap[kk] = d;
        }
        if (d < 0) defs[k] = 0;
        else {
          defs[k] = 1;
          out[count++] = d;
        }
      }
      dictionary = byteArrays(texts);
      dictionarySize = texts.length;
      const bitWidth = texts.length <= 1 ? 0 : Math.ceil(Math.log2(texts.length));
      const page = new ByteWriter(16 + count);
      page.appendUint8(bitWidth);
      writeRleBitPackedHybrid(page, out.subarray(0, count), bitWidth);
      values = page.getBytes();
      encoding = 'RLE_DICTIONARY';
      break;
    }
    case 'string': {
      const texts: string[] = [];
      for (let k = 0; k < n; k++) {
        const v = reader.get(slots[k]!);
        if (v === null) defs[k] = 0;
        else {
          defs[k] = 1;
          texts.push(v);
        }
      }
      count = texts.length;
      values = byteArrays(texts);
      break;
    }
  }

  const levels = new ByteWriter(64);
  writeRleBitPackedHybrid(levels, defs.subarray(0, n), 1);
  return {
    element,
    rows: n,
    nulls: n - count,
    encoding,
    dictionary: dictionary === null ? null : { bytes: dictionary, count: dictionarySize },
    levels: levels.getBytes().slice(),
    // A copy: the scratch is the next column's while this one compresses.
    values: values.slice(),
  };
}

/** A chunk compressed: its uncompressed pages are gone, only their sizes are kept (for the page headers). */
interface Compressed extends Omit<Chunk, 'dictionary' | 'values'> {
  dictionary: { length: number; count: number } | null;
  valuesLength: number;
  dictionaryPage: Uint8Array | null;
  valuesPage: Uint8Array;
}

/**
 * Gzip jobs in flight at once. All of a group's chunks at once (~60 zlib streams, each ~300 KB of state, and
 * every uncompressed page held until the group was written) cost ~100 MB at the analysis's peak; two keep
 * both cores busy while the main thread encodes the next group.
 */
const GZIP_LANES = 2;

/** The chunks compressed, in order; each uncompressed chunk is let go as soon as it is compressed. */
async function compressAll(chunks: (Chunk | null)[]): Promise<Compressed[]> {
  const out = new Array<Compressed>(chunks.length);
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const k = next++;
      const chunk = chunks[k]!;
      chunks[k] = null;
      out[k] = await compressChunk(chunk);
    }
  };
  await Promise.all(Array.from({ length: GZIP_LANES }, lane));
  return out;
}

async function compressChunk(chunk: Chunk): Promise<Compressed> {
  const { dictionary, values, ...rest } = chunk;
  const dictionaryPage = dictionary && (await compress(dictionary.bytes));
  const valuesPage = await compress(values);
  return {
    ...rest,
    dictionary: dictionary && { length: dictionary.bytes.length, count: dictionary.count },
    valuesLength: values.length,
    dictionaryPage,
    valuesPage,
  };
}

function writeChunk(writer: Writer, chunk: Compressed): ColumnChunk {
  const { element, dictionary, dictionaryPage, levels, valuesLength, valuesPage } = chunk;
  const start = writer.offset;
  let uncompressed = 0;
  let dictionaryOffset: bigint | undefined;
  if (dictionary !== null && dictionaryPage !== null) {
    dictionaryOffset = BigInt(writer.offset);
    writePageHeader(writer, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: dictionary.length,
      compressed_page_size: dictionaryPage.length,
      dictionary_page_header: { num_values: dictionary.count, encoding: 'PLAIN' },
    });
    uncompressed += writer.offset - start + dictionary.length;
    writer.appendBytes(dictionaryPage);
  }
  const dataOffset = BigInt(writer.offset);
  const headerStart = writer.offset;
  writePageHeader(writer, {
    type: 'DATA_PAGE_V2',
    uncompressed_page_size: levels.length + valuesLength,
    compressed_page_size: levels.length + valuesPage.length,
    data_page_header_v2: {
      num_values: chunk.rows,
      num_nulls: chunk.nulls,
      num_rows: chunk.rows,
      encoding: chunk.encoding,
      definition_levels_byte_length: levels.length,
      repetition_levels_byte_length: 0,
      is_compressed: true,
    },
  });
  uncompressed += writer.offset - headerStart + levels.length + valuesLength;
  writer.appendBytes(levels);
  writer.appendBytes(valuesPage);
  return {
    file_offset: BigInt(start),
    meta_data: {
      type: element.type!,
      encodings: dictionary === null ? ['RLE', 'PLAIN'] : ['PLAIN', 'RLE', 'RLE_DICTIONARY'],
      path_in_schema: [element.name],
      codec: CODEC,
      num_values: BigInt(chunk.rows),
      total_uncompressed_size: BigInt(uncompressed),
      total_compressed_size: BigInt(writer.offset - start),
      data_page_offset: dataOffset,
      dictionary_page_offset: dictionaryOffset,
      statistics: { null_count: BigInt(chunk.nulls) },
    },
  };
}

function compress(bytes: Uint8Array): Promise<Uint8Array> {
  return gzipAsync(bytes, { level: 1 });
}

/** PLAIN BYTE_ARRAY: each value's UTF-8 length (4 bytes, little-endian), then its bytes. */
function byteArrays(texts: readonly string[]): Uint8Array {
  let size = 0;
  for (const v of texts) size += 4 + Buffer.byteLength(v);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const v of texts) {
    const len = out.write(v, at + 4);
    out.writeUInt32LE(len, at);
    at += 4 + len;
  }
  return out;
}
