/**
 * Open-loop arrival processes: when request i is due, in ns after the start.
 *
 * - uniform: evenly spaced at the rate (the default, as before);
 * - poisson: exponential gaps at the rate (seeded: a run can be replayed);
 * - a trace: a file of gaps or of arrival times (ms, one a line), or the
 *   Azure Functions 2019 invocation trace (per function, invocation counts
 *   per minute; every function's counts are summed, since the caller calls
 *   one URL). The format gives no times within a minute; as its users do
 *   (vHive's In-Vitro loader), the count of each minute is spread over it:
 *   `uniform`, times drawn uniformly within the minute and sorted (a Poisson
 *   process given its count; In-Vitro's normalised exponential gaps have the
 *   same law), or `equidistant`.
 *
 * A schedule is read in order, lazily, so a Poisson schedule of any length
 * costs memory only for the requests not yet sent.
 */
import { readFileSync } from 'node:fs';
import exponentialRandom from '@stdlib/random-base-exponential';
import { seededRandom } from '../stats/random.js';

export type TraceFormat = 'intervals' | 'timestamps' | 'azure';
export type AzureSpread = 'uniform' | 'equidistant';
export const TRACE_FORMATS: readonly TraceFormat[] = ['intervals', 'timestamps', 'azure'];

export type Arrival = { kind: 'uniform' } | { kind: 'poisson' } | { kind: 'trace'; format: TraceFormat; file: string };

export interface ArrivalOptions {
  /** uniform and poisson: requests per second. */
  rate?: number;
  seed: number;
  /** Traces: replay this many times faster (a minute of an Azure trace in a second at 60). */
  speed?: number;
  spread?: AzureSpread;
}

export class ArrivalError extends Error {
  override name = 'ArrivalError';
}

export interface Schedule {
  readonly kind: Arrival['kind'];
  /** The mean planned rate, per second. */
  readonly rate: number;
  /** Due time of request i (ns after the start), for i not less than any index asked before less the lookback; Infinity past its end. */
  at(i: number): number;
  /** Requests below i will not be asked for again. */
  release(i: number): void;
  /** A trace's length (ns after the start of its last arrival); null for an endless process. */
  readonly lastNs: number | null;
}

/** Parses `uniform`, `poisson`, or FORMAT:FILE. */
export function parseArrival(text: string): Arrival {
  if (text === 'uniform' || text === 'poisson') return { kind: text };
  const colon = text.indexOf(':');
  const format = text.slice(0, colon) as TraceFormat;
  if (colon > 0 && TRACE_FORMATS.includes(format) && colon < text.length - 1) return { kind: 'trace', format, file: text.slice(colon + 1) };
  throw new ArrivalError(`--arrival must be uniform, poisson, or a trace as ${TRACE_FORMATS.map((f) => `${f}:FILE`).join(', ')}; got ${JSON.stringify(text)}`);
}

export function scheduleOf(arrival: Arrival, o: ArrivalOptions): Schedule {
  if (arrival.kind === 'trace') return traceSchedule(readTrace(arrival.format, arrival.file, o), o.speed ?? 1);
  const rate = o.rate;
  if (rate === undefined || !(rate > 0)) throw new ArrivalError(`${arrival.kind} arrivals need a rate (--rate)`);
  if (arrival.kind === 'uniform') {
    const interval = 1e9 / rate;
    return { kind: 'uniform', rate, at: (i) => Math.round(i * interval), release: () => {}, lastNs: null };
  }
  const gap = exponentialRandom.factory({ prng: seededRandom(o.seed) });
  const lambda = rate / 1e9;
  // The first request is due at once, as in the uniform schedule; gaps follow.
  return new Lazy('poisson', rate, (previous) => (previous === null ? 0 : previous + gap(lambda)));
}

/** Offsets generated in order and dropped once released (the last is kept: the next one follows from it). */
class Lazy implements Schedule {
  readonly lastNs = null;
  private base = 0;
  private values: number[] = [];
  constructor(
    readonly kind: Schedule['kind'],
    readonly rate: number,
    private readonly next: (previous: number | null) => number,
  ) {}

  at(i: number): number {
    if (i < this.base) throw new RangeError(`arrival ${i} was released`);
    while (this.base + this.values.length <= i) this.values.push(this.next(this.values.length > 0 ? this.values[this.values.length - 1]! : null));
    return Math.round(this.values[i - this.base]!);
  }

  release(i: number): void {
    const drop = Math.min(i - this.base, this.values.length - 1);
    if (drop < 4096) return;
    this.values = this.values.slice(drop);
    this.base += drop;
  }
}

function traceSchedule(offsetsMs: Float64Array, speed: number): Schedule {
  if (!(speed > 0)) throw new ArrivalError('the trace speed must be above 0');
  const n = offsetsMs.length;
  const spanMs = (offsetsMs[n - 1]! - offsetsMs[0]!) / speed;
  const first = offsetsMs[0]!;
  return {
    kind: 'trace',
    // n arrivals over their span: n − 1 gaps.
    rate: spanMs > 0 ? ((n - 1) / spanMs) * 1000 : n,
    at: (i) => (i < n ? Math.round(((offsetsMs[i]! - first) / speed) * 1e6) : Number.POSITIVE_INFINITY),
    release: () => {},
    lastNs: Math.round(spanMs * 1e6),
  };
}

/** A trace as ascending arrival times in ms (the first may be at any time; the schedule starts there). */
export function readTrace(format: TraceFormat, file: string, o: Pick<ArrivalOptions, 'seed' | 'spread'>): Float64Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ArrivalError(`cannot read the trace ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const times = format === 'azure' ? azureTimes(text, file, o.spread ?? 'uniform', o.seed) : numberTimes(text, file, format);
  if (times.length < 2) throw new ArrivalError(`the trace ${file} has fewer than 2 arrivals`);
  return times;
}

function numberTimes(text: string, file: string, format: 'intervals' | 'timestamps'): Float64Array {
  const values: number[] = [];
  text.split(/\r?\n/).forEach((line, k) => {
    const s = line.trim();
    if (s === '' || s.startsWith('#')) return;
    const v = Number(s);
    if (!Number.isFinite(v) || v < 0) throw new ArrivalError(`${file}:${k + 1}: expected a number of milliseconds (0 or more), got ${JSON.stringify(s.slice(0, 40))}`);
    values.push(v);
  });
  if (format === 'timestamps') {
    for (let i = 1; i < values.length; i++) {
      if (values[i]! < values[i - 1]!) throw new ArrivalError(`${file}: timestamps must not decrease (${values[i]} after ${values[i - 1]})`);
    }
    return Float64Array.from(values);
  }
  // Gaps: the first arrival at 0, each next one a gap later.
  const out = new Float64Array(values.length + 1);
  for (let i = 0; i < values.length; i++) out[i + 1] = out[i]! + values[i]!;
  return out;
}

const AZURE_HEAD = ['HashOwner', 'HashApp', 'HashFunction', 'Trigger'];
const MINUTE_MS = 60_000;

/** The Azure Functions 2019 invocations file: HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440. */
function azureTimes(text: string, file: string, spread: AzureSpread, seed: number): Float64Array {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const head = (lines[0] ?? '').split(',').map((s) => s.trim());
  if (AZURE_HEAD.some((h, k) => head[k] !== h) || head.length < 5) {
    throw new ArrivalError(`${file} is not an Azure Functions invocation trace: its header must begin ${AZURE_HEAD.join(',')},1,2,…`);
  }
  const minutes = head.length - AZURE_HEAD.length;
  const counts = new Float64Array(minutes);
  for (let k = 1; k < lines.length; k++) {
    const cells = lines[k]!.split(',');
    if (cells.length !== head.length) throw new ArrivalError(`${file}:${k + 1}: ${cells.length} columns, the header has ${head.length}`);
    for (let m = 0; m < minutes; m++) {
      const c = Number(cells[AZURE_HEAD.length + m]);
      if (!Number.isInteger(c) || c < 0) throw new ArrivalError(`${file}:${k + 1}: minute ${m + 1} must be a count, got ${JSON.stringify(cells[AZURE_HEAD.length + m])}`);
      counts[m]! += c;
    }
  }
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let m = 0; m < minutes; m++) {
    const c = counts[m]!;
    const within = spread === 'equidistant' ? Array.from({ length: c }, (_, k) => (k * MINUTE_MS) / c) : Array.from({ length: c }, () => random() * MINUTE_MS).sort((a, b) => a - b);
    for (const t of within) out.push(m * MINUTE_MS + t);
  }
  return Float64Array.from(out);
}
