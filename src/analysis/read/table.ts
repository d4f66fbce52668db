/**
 * All requests of an analysis, joined by id as their records stream in, in
 * columns of typed arrays: ~150 bytes a request instead of three JS objects,
 * which is what keeps 1.5 M requests × 3 roles inside 512 MiB.
 * A request's slot is created by whichever of its records comes first; its
 * id is kept as integers (ids.ts).
 */
import { IdIndex } from './ids.js';
import { Interner } from './interner.js';
import { ClockRegistry, StampError } from './stamps.js';

export const KERNEL_STAMPS = ['k1', 'k5', 'k6', 'k3', 'k4'] as const;
export type KernelStamp = (typeof KERNEL_STAMPS)[number];
/** Per request slot, on the clock of its record (k1, k5, k4: the gateway's; k6: the caller's; k3: its t3 stamps'); NaN where none was found. */
export type KernelColumns = Record<KernelStamp, Float64Array>;

/** Bits of `flags`. */
export const HAS_CALLER = 1;
export const HAS_GATEWAY = 2;
export const HAS_WORKER = 4;
/** Worker stamps came from the gateway's copy / from the worker's own record. */
export const T3_FROM_GATEWAY = 8;
export const T3_FROM_WORKER = 16;
export const WARMUP = 32;
/** The worker's call started its instance (a cold start). */
export const COLD = 64;
/** A probe stream's request (caller --probe-rate): kept out of the cells, summarised beside them. */
export const PROBE = 128;

const F64 = ['t0', 't0_intended', 't6', 't1', 't2', 't4', 't5', 't3_recv', 't3_start', 't3_end', 't3_send', 'bytes'] as const;
/** instance: the worker's instance that ran the call (0: none, or no worker record). */
const U32 = ['connections', 'request', 'label', 'instance'] as const;
/** workerCount: how many workers the gateway was given (0: its record did not say). */
const U16 = ['callerClock', 'gatewayClock', 't3Clock', 'callerError', 'gatewayError', 'workerError', 'workerHost', 'workerAddress', 'workerCount'] as const;
const I16 = ['callerStatus', 'gatewayStatus'] as const;
const U8 = ['flags', 'framework', 'fn', 'workerFn', 'balance'] as const;

type Columns<K extends string, A> = { [key in K]: A };

export class RequestTable {
  readonly clocks = new ClockRegistry();
  readonly frameworks = new Interner(255);
  readonly fns = new Interner(255);
  readonly errors = new Interner();
  readonly hosts = new Interner();
  readonly requests = new Interner(1 << 24);
  readonly labels = new Interner();
  readonly instances = new Interner(1 << 24);
  /** slot → a cold call's start-up stamps (spawn asked, module loaded, init done), ns after its t3_recv: few calls have them. */
  readonly coldStamps = new Map<number, [spawn: number, loaded: number, init: number]>();
  /** The gateways' balancing policies. */
  readonly balances = new Interner(255);
  /** clock index → host name, for labelling offsets. */
  readonly clockHost: string[] = [];
  /** slot → the W3C trace id its caller or gateway record carries (few requests have one). */
  readonly traceIds = new Map<number, string>();
  /** Kernel stamps (kernel-join.ts), when the records had any: columns of their own, so that runs without them pay nothing. */
  kernel: KernelColumns | null = null;

  size = 0;
  private capacity: number;
  private readonly idIndex: IdIndex;

  f64!: Columns<(typeof F64)[number], Float64Array>;
  u32!: Columns<(typeof U32)[number], Uint32Array>;
  u16!: Columns<(typeof U16)[number], Uint16Array>;
  i16!: Columns<(typeof I16)[number], Int16Array>;
  u8!: Columns<(typeof U8)[number], Uint8Array>;

  /** `expected`: a guess at the number of requests, so the columns need not grow. */
  constructor(expected = 1 << 16) {
    this.capacity = Math.max(1024, Math.ceil(expected));
    this.idIndex = new IdIndex(this.capacity);
    this.allocate(this.capacity);
  }

  /** The slot of this id, created if new. */
  slot(id: string): number {
    if (this.size >= this.capacity) this.allocate(Math.ceil(this.capacity * 1.5));
    const found = this.idIndex.findOrAdd(id, this.size);
    return found >= 0 ? found : this.size++;
  }

  /** The slot of the id in buf[s, e) (a JSON string's content without escapes; `wide`: it has bytes beyond ASCII), created if new. */
  slotOfBytes(buf: Buffer, s: number, e: number, wide: boolean): number {
    if (this.size >= this.capacity) this.allocate(Math.ceil(this.capacity * 1.5));
    const found = this.idIndex.findOrAddBytes(buf, s, e, wide, this.size);
    return found >= 0 ? found : this.size++;
  }

  /** The request id of a slot. */
  id(slot: number): string {
    return this.idIndex.id(slot);
  }

  /** Index of the slot's id prefix (ids.ts): requests of one caller run share it. */
  idPrefix(slot: number): number {
    return this.idIndex.prefix(slot);
  }

  /** The text of an id prefix, up to and including its last dash. */
  prefixText(prefix: number): string {
    return this.idIndex.prefixes[prefix]!;
  }

  /** Clock index for a role's host; the key keeps a worker's own record and the gateway's copy apart. */
  clock(key: string, host: string): number {
    const clock = this.clocks.clock(key);
    // A flood of host names (a record each) is skipped and counted, not a crash: the columns hold 16-bit clock indices.
    if (clock > 0xffff) throw new StampError('more than 65535 clocks', 'over 65,535 hosts');
    this.clockHost[clock] = host;
    return clock;
  }

  /** Drops the id index once all records are in: the join is done, the memory is better spent sorting. */
  sealed(): this {
    this.idIndex.seal();
    return this;
  }

  private allocate(capacity: number): void {
    const grow = <A extends Float64Array | Uint32Array | Uint16Array | Int16Array | Uint8Array>(
      old: A | undefined,
      make: (n: number) => A,
      fill?: number,
    ): A => {
      const next = make(capacity);
      if (fill !== undefined) next.fill(fill);
      if (old) next.set(old as never);
      return next;
    };
    const build = <K extends string, A extends Float64Array | Uint32Array | Uint16Array | Int16Array | Uint8Array>(
      keys: readonly K[],
      old: Columns<K, A> | undefined,
      make: (n: number) => A,
      fill?: number,
    ) => Object.fromEntries(keys.map((k) => [k, grow(old?.[k], make, fill)])) as Columns<K, A>;
    this.f64 = build(F64, this.f64, (n) => new Float64Array(n), NaN);
    this.u32 = build(U32, this.u32, (n) => new Uint32Array(n));
    this.u16 = build(U16, this.u16, (n) => new Uint16Array(n));
    this.i16 = build(I16, this.i16, (n) => new Int16Array(n), -1);
    this.u8 = build(U8, this.u8, (n) => new Uint8Array(n));
    if (capacity > this.idIndex.prefixOf.length) this.idIndex.grow(capacity);
    this.capacity = capacity;
  }
}
