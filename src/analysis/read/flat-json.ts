/**
 * A scanner for one NDJSON record line as bytes: a flat JSON object of
 * strings, numbers, true, false and null, as the roles write them. It builds
 * no object and no string per line: each known key's value is left as a kind
 * and a byte range, read on demand (fields.ts). JSON.parse per line was a
 * third of the analysis' time, and the garbage it left another fifth.
 *
 * It accepts a strict subset of JSON on which its reading is certain to be
 * JSON.parse's: no whitespace between tokens, no escape in a string, no
 * nested value, no repeated key, numbers in JSON's grammar. Anything else
 * returns false and the caller parses the line with JSON.parse, so a line's
 * meaning never depends on which path read it.
 */

/** The keys the ingest reads; any other key's value is checked and skipped. */
export const KEYS = [
  'role', 'type', 'host', 'id', 'method', 'path', 'connections', 'warmup', 'status', 'bytes', 'error',
  't0', 't6', 't0_intended', 'label', 'trace_id', 'framework', 'fn', 't1', 't2', 't3_recv', 't3_start',
  't3_end', 't3_send', 't4', 't5', 'worker', 'balance', 'workers', 'instance', 'cold', 'cold_spawn', 'cold_loaded',
  'cold_init',
] as const;
export type Key = (typeof KEYS)[number];
/** Index of each key in KEYS. */
export const K = Object.fromEntries(KEYS.map((k, i) => [k, i])) as { [key in Key]: number };

export const ABSENT = 0;
export const STRING = 1;
export const NUMBER = 2;
export const TRUE = 3;
export const FALSE = 4;
export const NULL = 5;

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Each key's bytes after its opening quote: the name, the closing quote and the colon. */
const KEY_TAILS = KEYS.map((k) => Buffer.from(`${k}":`, 'latin1'));
const KEY_INDEX = new Map<string, number>(KEYS.map((k, i) => [k, i]));
const TRUE_BYTES = Buffer.from('true');
const FALSE_BYTES = Buffer.from('false');
const NULL_BYTES = Buffer.from('null');

export class FlatLine {
  buf: Buffer = Buffer.alloc(0);
  /** Per key: its kind in this line (ABSENT unless `seen[k] === generation`), byte range of a string's content, a number's value. */
  readonly kind = new Uint8Array(KEYS.length);
  readonly start = new Int32Array(KEYS.length);
  readonly end = new Int32Array(KEYS.length);
  readonly num = new Float64Array(KEYS.length);
  /** A string value holds a byte ≥ 0x80: decode it as UTF-8. */
  readonly wide = new Uint8Array(KEYS.length);
  private readonly seen = new Uint32Array(KEYS.length);
  private generation = 0;
  /** The key that followed each key last time: records keep their field order, so the next key is usually known. */
  private readonly follows = new Int16Array(KEYS.length + 1).fill(-1);

  /** Kind of key k in the line last scanned. */
  kindOf(k: number): number {
    return this.seen[k] === this.generation ? this.kind[k]! : ABSENT;
  }

  /**
   * Scans the object at buf[start…]: the index just past its closing brace,
   * or −1 when the line is outside the subset (parse it with JSON.parse).
   * The line must end in a newline byte within buf: no JSON token holds one,
   * so every loop here stops at it at the latest, without bounds checks.
   */
  scan(buf: Buffer, start: number): number {
    this.buf = buf;
    const gen = ++this.generation;
    if (gen === 0xffffffff) {
      this.seen.fill(0);
      this.generation = 1;
    }
    const { kind, seen, follows } = this;
    let p = start;
    if (buf[p] !== OPEN) return -1;
    p++;
    if (buf[p] === CLOSE) return p + 1;
    let previous: number = KEYS.length;
    for (;;) {
      // Key: most often the one that followed the previous key last time, checked with its closing quote and colon.
      if (buf[p] !== QUOTE) return -1;
      p++;
      let key = -1;
      const guess = follows[previous]!;
      if (guess >= 0) {
        const tail = KEY_TAILS[guess]!;
        let i = 0;
        while (i < tail.length && buf[p + i] === tail[i]) i++;
        if (i === tail.length) {
          key = guess;
          p += i;
        }
      }
      if (key < 0) {
        const ks = p;
        for (;;) {
          const c = buf[p]!;
          if (c === QUOTE) break;
          if (c === BACKSLASH || c < 0x20) return -1;
          p++;
        }
        key = this.keyOf(buf, ks, p);
        p++;
        if (buf[p] !== COLON) return -1;
        p++;
        if (key >= 0) follows[previous] = key;
      }
      if (key >= 0) {
        if (seen[key] === gen) return -1; // a repeated key: JSON.parse keeps the last
        seen[key] = gen;
        previous = key;
      }
      // Value.
      const c = buf[p]!;
      let k: number;
      if (c === QUOTE) {
        const vs = ++p;
        let wide = 0;
        for (;;) {
          const b = buf[p]!;
          if (b === QUOTE) break;
          if (b < 0x20 || b === BACKSLASH) return -1;
          if (b >= 0x80) wide = 1;
          p++;
        }
        if (key >= 0) {
          this.start[key] = vs;
          this.end[key] = p;
          this.wide[key] = wide;
        }
        p++;
        k = STRING;
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        const ns = p;
        p = this.number(buf, p);
        if (p < 0) return -1;
        if (key >= 0) this.num[key] = this.valueOf(buf, ns, p);
        k = NUMBER;
      } else if (c === 0x74 && matches(buf, p, TRUE_BYTES)) {
        p += 4;
        k = TRUE;
      } else if (c === 0x66 && matches(buf, p, FALSE_BYTES)) {
        p += 5;
        k = FALSE;
      } else if (c === 0x6e && matches(buf, p, NULL_BYTES)) {
        p += 4;
        k = NULL;
      } else {
        return -1; // nested, or not JSON: JSON.parse decides
      }
      if (key >= 0) kind[key] = k;
      const sep = buf[p++];
      if (sep === CLOSE) return p;
      if (sep !== COMMA) return -1;
    }
  }

  private keyOf(buf: Buffer, ks: number, ke: number): number {
    if (ke - ks > 16) return -1;
    return KEY_INDEX.get(buf.toString('latin1', ks, ke)) ?? -1;
  }

  /** End of a JSON number starting at p, or −1 when it is not one. */
  private number(buf: Buffer, p: number): number {
    if (buf[p] === MINUS) p++;
    let c = buf[p]!;
    if (c === ZERO) p++;
    else if (c > ZERO && c <= NINE) while ((c = buf[p]!) >= ZERO && c <= NINE) p++;
    else return -1;
    if (buf[p] === DOT) {
      const s = ++p;
      while ((c = buf[p]!) >= ZERO && c <= NINE) p++;
      if (p === s) return -1;
    }
    if (buf[p] === 0x65 || buf[p] === 0x45) {
      p++;
      if (buf[p] === 0x2b || buf[p] === MINUS) p++;
      const s = p;
      while ((c = buf[p]!) >= ZERO && c <= NINE) p++;
      if (p === s) return -1;
    }
    return p;
  }

  /** An integer of up to 15 digits is summed exactly; anything else goes through Number(), which rounds as JSON.parse does. */
  private valueOf(buf: Buffer, s: number, e: number): number {
    const negative = buf[s] === MINUS;
    const from = negative ? s + 1 : s;
    if (e - from <= 15) {
      let v = 0;
      let q = from;
      for (; q < e; q++) {
        const c = buf[q]!;
        if (c < ZERO || c > NINE) break;
        v = v * 10 + (c - ZERO);
      }
      if (q === e) return negative ? -v : v;
    }
    return Number(buf.toString('latin1', s, e));
  }
}

function matches(buf: Buffer, p: number, word: Buffer): boolean {
  for (let i = 1; i < word.length; i++) if (buf[p + i] !== word[i]) return false;
  return true;
}

export function equals(buf: Buffer, s: number, e: number, word: Buffer | Uint8Array): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word[i]) return false;
  return true;
}
