/**
 * Stamps arrive as decimal strings of a host's monotonic nanoseconds, often
 * beyond 2^53. Converting each to BigInt is exact but slow for millions of
 * records, so every clock gets a base (its first stamp seen) and stamps are
 * kept as `stamp − base`, an integer that fits a double exactly for any run
 * shorter than ~104 days. Stages only subtract stamps of one clock, so the
 * base cancels; the offset estimate adds the bases' difference back.
 */

const GIGA = 1e9;

interface ClockBase {
  key: string;
  /** floor(base / 1e9) and base mod 1e9, both exact doubles. */
  hi: number;
  lo: number;
  exact: bigint;
}

/** Why a stamp could not be read, or why a record's stamps cannot all be true; `reason` names the rejection. */
export class StampError extends Error {
  override name = 'StampError';
  constructor(
    message: string,
    readonly reason = 'bad stamp',
  ) {
    super(message);
  }
}

/**
 * The longest a record's own stamps may span, ns: the longest timer any role
 * can set (a caller's --timeout, a run's --duration: 2^31 − 1 ms, 24.8 days).
 * Beyond it a stamp is not a slow request but a forged or corrupt one, which
 * would otherwise read as a throughput of 0 or crash the timeline.
 */
export const MAX_RECORD_SPAN_NS = (2 ** 31 - 1) * 1e6;

/**
 * Checks stamps of one record, on one clock, in the order the role takes them
 * (NaN: absent, skipped): each at or after the one before, and all within
 * MAX_RECORD_SPAN_NS. Throws a StampError naming which rule failed.
 */
export function checkOrder(a: number, b: number, c = NaN, d = NaN): void {
  // No array per call: three calls per request on the hot path.
  let first = a;
  let last = a;
  if (b === b) {
    if (b < last) throw outOfOrder();
    if (first !== first) first = b;
    last = b;
  }
  if (c === c) {
    if (c < last) throw outOfOrder();
    if (first !== first) first = c;
    last = c;
  }
  if (d === d) {
    if (d < last) throw outOfOrder();
    if (first !== first) first = d;
    last = d;
  }
  if (last - first > MAX_RECORD_SPAN_NS) throw new StampError('stamps too far apart', 'stamps over 24.8 days apart');
}

const outOfOrder = () => new StampError('stamps out of order', 'stamps out of order');

/**
 * The clocks seen so far (one per host, roughly), each with its base.
 * A clock is identified by a string key chosen by the reader.
 */
export class ClockRegistry {
  private readonly bases: ClockBase[] = [];
  private readonly byKey = new Map<string, number>();
  /** Stamps that were JSON numbers above 2^53: already rounded by the writer. */
  inexactNumbers = 0;

  /** The index of the clock with this key, registering it if new. */
  clock(key: string): number {
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.bases.length;
      this.byKey.set(key, index);
      this.bases.push({ key, hi: NaN, lo: NaN, exact: 0n });
    }
    return index;
  }

  get size(): number {
    return this.bases.length;
  }

  keyOf(clock: number): string {
    return this.base(clock).key;
  }

  /**
   * `stamp − base` of the clock as an exact double; NaN for null/undefined.
   * Throws StampError for anything that is not a non-negative integer.
   */
  relative(clock: number, stamp: unknown): number {
    if (stamp === null || stamp === undefined) return NaN;
    let hi: number;
    let lo: number;
    if (typeof stamp === 'string') {
      const len = stamp.length;
      if (len === 0 || len > 21) throw new StampError(`bad stamp ${JSON.stringify(stamp.slice(0, 30))}`);
      if (len <= 15) {
        const v = Number(stamp);
        if (!Number.isInteger(v) || v < 0) throw new StampError(`bad stamp ${JSON.stringify(stamp)}`);
        hi = Math.floor(v / GIGA);
        lo = v - hi * GIGA;
      } else {
        hi = Number(stamp.slice(0, len - 9));
        lo = Number(stamp.slice(len - 9));
        if (!Number.isInteger(hi) || !Number.isInteger(lo) || hi < 0 || lo < 0) {
          throw new StampError(`bad stamp ${JSON.stringify(stamp)}`);
        }
      }
    } else if (typeof stamp === 'number') {
      if (!Number.isInteger(stamp) || stamp < 0) throw new StampError(`bad stamp ${stamp}`);
      if (stamp > Number.MAX_SAFE_INTEGER) this.inexactNumbers++;
      hi = Math.floor(stamp / GIGA);
      lo = stamp - hi * GIGA;
    } else {
      throw new StampError(`stamp of type ${typeof stamp}`);
    }
    return this.relativeParts(clock, hi, lo);
  }

  /** `stamp − base` of a stamp already split into floor(stamp / 1e9) and stamp mod 1e9 (both exact non-negative integers). */
  relativeParts(clock: number, hi: number, lo: number): number {
    const base = this.bases[clock]!;
    if (base.hi !== base.hi) {
      base.hi = hi;
      base.lo = lo;
      base.exact = BigInt(hi) * 1_000_000_000n + BigInt(lo);
    }
    return (hi - base.hi) * GIGA + (lo - base.lo);
  }

  /** The exact decimal text of a stamp stored as `relative` (empty for NaN). */
  text(clock: number, relative: number): string {
    if (relative !== relative) return '';
    const base = this.base(clock);
    const sum = base.lo + relative;
    const carry = Math.floor(sum / GIGA);
    const lo = sum - carry * GIGA;
    const hi = base.hi + carry;
    return hi > 0 ? `${hi}${String(lo).padStart(9, '0')}` : String(lo);
  }

  /** The exact stamp stored as `relative` (not NaN), as the host wrote it. */
  exact(clock: number, relative: number): bigint {
    return this.base(clock).exact + BigInt(relative);
  }

  /** A stamp stored as `relative`, back on its host's clock as a double (exact to ~1 µs; for placing it in time, not for stages). */
  absolute(clock: number, relative: number): number {
    return Number(this.base(clock).exact) + relative;
  }

  /** base(a) − base(b) in ns, as a double (exact below 2^53 ns ≈ 104 days). */
  baseDifference(a: number, b: number): number {
    return Number(this.base(a).exact - this.base(b).exact);
  }

  private base(clock: number): ClockBase {
    const base = this.bases[clock];
    if (!base) throw new RangeError(`unknown clock ${clock}`);
    return base;
  }
}
