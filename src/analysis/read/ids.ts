/**
 * Request ids as integers. A caller's ids are `<run prefix>-<counter in
 * base 36>` (records.md), so an id is kept as its prefix's index and its
 * counter, and found again through a dense array per prefix: no string and
 * no hash-map entry per request. A Map<string, slot> of 1.5 M ids was 8 s
 * of the analysis and ~150 MB. Ids of any other shape (a counter with a
 * leading zero or an upper-case digit, a suffix too long to be exact) keep
 * their string, in a map of their own: every distinct string is still a
 * distinct request.
 */
import { equals } from './flat-json.js';

const DASH = 0x2d;
/** Base-36 digits of a counter that are exact in a double (36^10 < 2^53). */
const MAX_DIGITS = 10;
/**
 * A prefix's dense array grows only to counters below twice its ids so far
 * plus this; others go to its sparse map. A caller's counters run 0, 1, 2…,
 * so they stay dense; ids counted some other way cost a map entry, never an
 * array of their largest counter.
 */
const DENSE_SLACK = 1024;
/** prefixOf of an id kept as a string. */
export const ODD = 0xffffffff;

interface Prefix {
  text: string;
  /** counter → slot + 1 (0: none). */
  dense: Int32Array;
  count: number;
  sparse: Map<number, number> | null;
}

export class IdIndex {
  /** Per slot: its id's prefix index (ODD: kept whole in `odd`) and counter. */
  prefixOf: Uint32Array;
  counterOf: Float64Array;
  readonly prefixes: string[] = [];
  private readonly byText = new Map<string, number>();
  private readonly runs: Prefix[] = [];
  /** Ids that are not prefix + canonical counter: id → slot, and slot → id. */
  private oddSlots = new Map<string, number>();
  private readonly oddIds = new Map<number, string>();
  /** Per slot of an odd id: its prefix index all the same, for telling caller runs apart. */
  private readonly oddPrefix = new Map<number, number>();
  private lastPrefix: Buffer | null = null;
  private lastIndex = -1;

  constructor(capacity: number) {
    this.prefixOf = new Uint32Array(capacity);
    this.counterOf = new Float64Array(capacity);
  }

  grow(capacity: number): void {
    const p = new Uint32Array(capacity);
    p.set(this.prefixOf.subarray(0, Math.min(capacity, this.prefixOf.length)));
    const c = new Float64Array(capacity);
    c.set(this.counterOf.subarray(0, Math.min(capacity, this.counterOf.length)));
    this.prefixOf = p;
    this.counterOf = c;
  }

  /** The slot of the id in buf[s, e), or −1 when new; `next` is the slot a new id gets. */
  findOrAddBytes(buf: Buffer, s: number, e: number, wide: boolean, next: number): number {
    // Beyond ASCII, the id as text decides, exactly as when it comes from JSON.parse.
    if (wide) return this.findOrAdd(buf.toString('utf8', s, e), next);
    let dash = e - 1;
    while (dash >= s && buf[dash] !== DASH) dash--;
    const counter = counterOfBytes(buf, dash + 1, e);
    if (counter < 0) return this.findOrAddOdd(buf.toString('latin1', s, e), next);
    let prefix = this.lastIndex;
    const last = this.lastPrefix;
    if (last === null || !equals(buf, s, dash + 1, last)) {
      prefix = this.prefixIndex(buf.toString('latin1', s, dash + 1));
      this.lastPrefix = Buffer.from(buf.subarray(s, dash + 1));
      this.lastIndex = prefix;
    }
    return this.findOrAddCounter(prefix, counter, next);
  }

  /** The same for an id given as a string. */
  findOrAdd(id: string, next: number): number {
    const dash = id.lastIndexOf('-');
    const counter = counterOfText(id, dash + 1);
    if (counter < 0) return this.findOrAddOdd(id, next);
    return this.findOrAddCounter(this.prefixIndex(id.slice(0, dash + 1)), counter, next);
  }

  id(slot: number): string {
    const p = this.prefixOf[slot]!;
    return p === ODD ? this.oddIds.get(slot)! : this.prefixes[p]! + this.counterOf[slot]!.toString(36);
  }

  /** Index of the id's prefix (up to and including its last dash): one per caller run. */
  prefix(slot: number): number {
    const p = this.prefixOf[slot]!;
    return p === ODD ? this.oddPrefix.get(slot)! : p;
  }

  /** Drops the lookup structures once every record is in. */
  seal(): void {
    for (const r of this.runs) {
      r.dense = new Int32Array(0);
      r.sparse = null;
    }
    this.oddSlots = new Map();
    this.lastPrefix = null;
  }

  private prefixIndex(text: string): number {
    let index = this.byText.get(text);
    if (index === undefined) {
      index = this.prefixes.length;
      this.byText.set(text, index);
      this.prefixes.push(text);
      this.runs.push({ text, dense: new Int32Array(64), count: 0, sparse: null });
    }
    return index;
  }

  private findOrAddCounter(prefix: number, counter: number, next: number): number {
    const run = this.runs[prefix]!;
    if (counter >= run.dense.length && counter < 2 * run.count + DENSE_SLACK && counter < 2 ** 31) {
      let size = run.dense.length;
      while (size <= counter) size *= 2;
      const dense = new Int32Array(size);
      dense.set(run.dense);
      run.dense = dense;
    }
    if (counter < run.dense.length) {
      const found = run.dense[counter]!;
      if (found > 0) return found - 1;
      // The array may have grown over a counter the map took before.
      const earlier = run.sparse?.get(counter);
      if (earlier !== undefined) return earlier;
      run.dense[counter] = next + 1;
    } else {
      run.sparse ??= new Map();
      const found = run.sparse.get(counter);
      if (found !== undefined) return found;
      run.sparse.set(counter, next);
    }
    run.count++;
    this.prefixOf[next] = prefix;
    this.counterOf[next] = counter;
    return -1;
  }

  private findOrAddOdd(id: string, next: number): number {
    const found = this.oddSlots.get(id);
    if (found !== undefined) return found;
    this.oddSlots.set(id, next);
    this.oddIds.set(next, id);
    this.prefixOf[next] = ODD;
    this.oddPrefix.set(next, this.prefixIndex(id.slice(0, id.lastIndexOf('-') + 1)));
    return -1;
  }
}

/** A canonical base-36 counter (lower case, no leading zero, at most MAX_DIGITS digits) in buf[s, e), or −1. */
function counterOfBytes(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len < 1 || len > MAX_DIGITS || (len > 1 && buf[s] === 0x30)) return -1;
  let v = 0;
  for (let q = s; q < e; q++) {
    const d = digit36(buf[q]!);
    if (d < 0) return -1;
    v = v * 36 + d;
  }
  return v;
}

function counterOfText(id: string, s: number): number {
  const len = id.length - s;
  if (len < 1 || len > MAX_DIGITS || (len > 1 && id.charCodeAt(s) === 0x30)) return -1;
  let v = 0;
  for (let q = s; q < id.length; q++) {
    const d = digit36(id.charCodeAt(q));
    if (d < 0) return -1;
    v = v * 36 + d;
  }
  return v;
}

function digit36(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 10;
  return -1;
}
