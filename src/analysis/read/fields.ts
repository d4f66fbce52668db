/**
 * One record's fields as the ingest reads them, whichever way the line was
 * parsed: LineFields over a line scanned as bytes (flat-json.ts), the common
 * case; ObjectFields over the object JSON.parse made of any other line. The
 * ingest's rules are written once, against this interface, so both paths
 * read a line the same way.
 */
import { ABSENT, FALSE, FlatLine, K, KEYS, NULL, NUMBER, STRING, TRUE } from './flat-json.js';
import { StampError, type ClockRegistry } from './stamps.js';
import type { RequestTable } from './table.js';

/** A value that is none of the scalar kinds (an object or an array). */
export const OTHER = 6;

export interface Fields {
  /** ABSENT, STRING, NUMBER, TRUE, FALSE, NULL or OTHER. */
  kind(k: number): number;
  /** The string value, or null when not a string. */
  str(k: number): string | null;
  /** The number value (only when kind is NUMBER). */
  num(k: number): number;
  /** The stamp relative to its clock's base (ClockRegistry.relative): NaN when null or absent; throws StampError when unreadable. */
  stamp(clocks: ClockRegistry, clock: number, k: number): number;
  /** The table slot of the record's id (a non-empty string). */
  slot(t: RequestTable): number;
}

const GIGA = 1e9;

/** Strings up to this long are remembered per key, a few each. */
const CACHED_BYTES = 128;
const CACHED_PER_KEY = 4;

/** A line scanned as bytes. Strings repeated from line to line (hosts, frameworks, paths, worker addresses) are decoded once. */
export class LineFields implements Fields {
  readonly line = new FlatLine();
  /** Per key, CACHED_PER_KEY entries: bytes, their length and their text; replaced round robin. */
  private readonly cacheBytes = new Uint8Array(KEYS.length * CACHED_PER_KEY * CACHED_BYTES);
  private readonly cacheLength = new Int16Array(KEYS.length * CACHED_PER_KEY).fill(-1);
  private readonly cacheText: string[] = new Array<string>(KEYS.length * CACHED_PER_KEY).fill('');
  private readonly cacheNext = new Uint8Array(KEYS.length);

  kind(k: number): number {
    return this.line.kindOf(k);
  }

  str(k: number): string | null {
    const l = this.line;
    if (l.kindOf(k) !== STRING) return null;
    const buf = l.buf;
    const s = l.start[k]!;
    const e = l.end[k]!;
    const len = e - s;
    const first = k * CACHED_PER_KEY;
    if (len <= CACHED_BYTES) {
      const bytes = this.cacheBytes;
      for (let c = first; c < first + CACHED_PER_KEY; c++) {
        if (this.cacheLength[c] !== len) continue;
        const at = c * CACHED_BYTES;
        let i = 0;
        while (i < len && bytes[at + i] === buf[s + i]) i++;
        if (i === len) return this.cacheText[c]!;
      }
    }
    const text = l.wide[k] ? buf.toString('utf8', s, e) : buf.toString('latin1', s, e);
    if (len <= CACHED_BYTES) {
      const c = first + this.cacheNext[k]!;
      this.cacheNext[k] = (this.cacheNext[k]! + 1) % CACHED_PER_KEY;
      buf.copy(this.cacheBytes, c * CACHED_BYTES, s, e);
      this.cacheLength[c] = len;
      this.cacheText[c] = text;
    }
    return text;
  }

  num(k: number): number {
    return this.line.num[k]!;
  }

  stamp(clocks: ClockRegistry, clock: number, k: number): number {
    const l = this.line;
    const kind = l.kindOf(k);
    if (kind === ABSENT || kind === NULL) return NaN;
    if (kind === NUMBER) return clocks.relative(clock, l.num[k]!);
    if (kind !== STRING) throw new StampError(`stamp of type boolean`);
    const buf = l.buf;
    const s = l.start[k]!;
    const e = l.end[k]!;
    const len = e - s;
    // Decimal digits only, as every role writes them: summed here, exactly as ClockRegistry.relative would split them.
    if (len > 0 && len <= 21) {
      let hi = 0;
      let lo = 0;
      let q = s;
      const split = len <= 15 ? e : e - 9;
      for (; q < split; q++) {
        const c = buf[q]! - 0x30;
        if (c < 0 || c > 9) break;
        hi = hi * 10 + c;
      }
      if (q === split) {
        for (; q < e; q++) {
          const c = buf[q]! - 0x30;
          if (c < 0 || c > 9) break;
          lo = lo * 10 + c;
        }
        if (q === e) {
          if (len <= 15) {
            const v = hi;
            hi = Math.floor(v / GIGA);
            lo = v - hi * GIGA;
          }
          return clocks.relativeParts(clock, hi, lo);
        }
      }
    }
    return clocks.relative(clock, this.str(k));
  }

  slot(t: RequestTable): number {
    const l = this.line;
    const k = K.id;
    return t.slotOfBytes(l.buf, l.start[k]!, l.end[k]!, l.wide[k] === 1);
  }
}

type Json = Record<string, unknown>;

/** A line JSON.parse read. */
export class ObjectFields implements Fields {
  constructor(
    private readonly r: Json,
    private readonly id: string,
  ) {}

  kind(k: number): number {
    const v = this.r[KEYS[k]!];
    switch (typeof v) {
      case 'undefined':
        return ABSENT;
      case 'string':
        return STRING;
      case 'number':
        return NUMBER;
      case 'boolean':
        return v ? TRUE : FALSE;
      default:
        return v === null ? NULL : OTHER;
    }
  }

  str(k: number): string | null {
    const v = this.r[KEYS[k]!];
    return typeof v === 'string' ? v : null;
  }

  num(k: number): number {
    return this.r[KEYS[k]!] as number;
  }

  stamp(clocks: ClockRegistry, clock: number, k: number): number {
    return clocks.relative(clock, this.r[KEYS[k]!]);
  }

  slot(t: RequestTable): number {
    return t.slot(this.id);
  }
}

export { FALSE, NUMBER, STRING, TRUE };
