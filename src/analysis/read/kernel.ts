/**
 * Kernel stamps as they stream in (docs/records.md#kernel-stamps): the
 * tracers' lines (sockets, message starts, segments, sends) and the records'
 * link fields (which connection each message arrived on, and on the RPC link
 * its frame's offset). kernel-join.ts turns them into stamps per request.
 * Events are kept in typed columns: a run at 150 connections writes several
 * per request.
 */
import { K, NUMBER } from './flat-json.js';
import type { Fields } from './fields.js';
import { Interner } from './interner.js';
import type { RequestTable } from './table.js';
export type KernelRole = 'caller' | 'gateway' | 'worker';

export const MSG = 0;
export const SEG = 1;
export const SEND = 2;
const KINDS: Record<string, number> = { msg: MSG, seg: SEG, send: SEND };

/** A tracer's start and stop lines: when it ran, what it lost, what it cost. */
export interface TracerRun {
  role: KernelRole;
  host: string;
  pid: number;
  tracer: string | null;
  /** False when the file has no stop line: the role was killed, and its last events were never written. */
  stopped: boolean;
  lost: number;
  tracer_cpu_us: number | null;
  said: string | null;
}

export interface KernelSocket {
  /** Interned `host \0 local>peer`; 0 until its sock line is read. */
  conn: number;
  /** The clock of the role that traced it (its host's). */
  clock: number;
  /** When it was first seen (its sock line), on `clock`. */
  first: number;
}

/** A column that grows as rows are appended. */
class Column<A extends Float64Array | Uint32Array | Uint16Array | Uint8Array> {
  data: A;
  constructor(private readonly make: (n: number) => A, capacity = 1024) {
    this.data = make(capacity);
  }
  /** Room for index i. */
  reserve(i: number, fill?: number): A {
    if (i < this.data.length) return this.data;
    const next = this.make(Math.max(i + 1, Math.ceil(this.data.length * 1.5)));
    if (fill !== undefined) next.fill(fill);
    next.set(this.data as never);
    return (this.data = next);
  }
}

const f64 = (fill = NaN) => (n: number) => new Float64Array(n).fill(fill);
const u32 = (n: number) => new Uint32Array(n);

export class KernelIngest {
  readonly tracers: TracerRun[] = [];
  readonly events = { sock: 0, msg: 0, seg: 0, send: 0 };
  readonly sockets: KernelSocket[] = [];
  /** `host \0 conn` of sockets and of the records' link fields. */
  readonly conns = new Interner(1 << 30);
  private readonly socketIndex = new Map<string, number>();

  // One row per event.
  n = 0;
  readonly evSocket = new Column(u32);
  readonly evKind = new Column((n) => new Uint8Array(n));
  readonly evT = new Column(f64());
  readonly evOff = new Column(f64());
  readonly evLen = new Column(u32);

  // Per request slot: the connections its records named (0: none) and the frame offsets (NaN: a one-message-at-a-time connection).
  readonly callerConn = new Column(u32);
  readonly frontConn = new Column(u32);
  readonly frontOff = new Column(f64());
  readonly rpcConn = new Column(u32);
  readonly rpcOff = new Column(f64());
  readonly workerConn = new Column(u32);
  readonly workerOff = new Column(f64());
  /** The worker's own record's clock (the table keeps the one its t3 stamps came on). */
  readonly workerClock = new Column((n) => new Uint16Array(n));
  /** Records that named a connection, by role. */
  readonly linked = { caller: 0, gateway: 0, worker: 0 };

  constructor(private readonly table: RequestTable) {}

  /** One kernel line of `role` on `host` (its clock `clock`); the reason it is skipped, or null. */
  line(f: Fields, role: KernelRole, host: string, clock: number): string | null {
    const k = f.str(K.k);
    const cookie = f.kind(K.sock) === NUMBER ? f.num(K.sock) : NaN;
    if (!(cookie >= 0)) return 'bad kernel line';
    const t = f.stamp(this.table.clocks, clock, K.t);
    const socket = this.socketOf(role, host, cookie, clock);
    if (k === 'sock') {
      const conn = f.str(K.conn);
      if (conn === null) return 'bad kernel line';
      const s = this.sockets[socket]!;
      s.conn = this.conns.id(`${host}\u0000${conn}`);
      s.first = t;
      this.events.sock++;
      return null;
    }
    const kind = k === null ? undefined : KINDS[k];
    if (kind === undefined) return 'bad kernel line';
    if (kind === SEG && (f.kind(K.off) !== NUMBER || f.kind(K.len) !== NUMBER)) return 'bad kernel line';
    const i = this.n++;
    this.evSocket.reserve(i)[i] = socket;
    this.evKind.reserve(i)[i] = kind;
    this.evT.reserve(i, NaN)[i] = t;
    if (kind === SEG) {
      this.evOff.reserve(i, NaN)[i] = f.num(K.off);
      this.evLen.reserve(i)[i] = f.num(K.len);
    }
    this.events[k as 'msg' | 'seg' | 'send']++;
    return null;
  }

  /** A caller record's `conn`. */
  caller(slot: number, host: string, f: Fields): void {
    const conn = f.str(K.conn);
    if (conn === null) return;
    this.linked.caller++;
    this.callerConn.reserve(slot)[slot] = this.conns.id(`${host}\u0000${conn}`);
  }

  /** A gateway record's `conn` / `off` (the request) and `rpc_conn` / `rpc_off` (the call's reply). */
  gateway(slot: number, host: string, f: Fields): void {
    this.linked.gateway++;
    const conn = f.str(K.conn);
    if (conn !== null) {
      this.frontConn.reserve(slot)[slot] = this.conns.id(`${host}\u0000${conn}`);
      if (f.kind(K.off) === NUMBER) this.frontOff.reserve(slot, NaN)[slot] = f.num(K.off);
    }
    const rpc = f.str(K.rpc_conn);
    if (rpc !== null) {
      this.rpcConn.reserve(slot)[slot] = this.conns.id(`${host}\u0000${rpc}`);
      if (f.kind(K.rpc_off) === NUMBER) this.rpcOff.reserve(slot, NaN)[slot] = f.num(K.rpc_off);
    }
  }

  /** A worker record's `conn` and `off` (where the call arrived). */
  worker(slot: number, host: string, clock: number, f: Fields): void {
    const conn = f.str(K.conn);
    if (conn === null || f.kind(K.off) !== NUMBER) return;
    this.linked.worker++;
    this.workerConn.reserve(slot)[slot] = this.conns.id(`${host}\u0000${conn}`);
    this.workerOff.reserve(slot, NaN)[slot] = f.num(K.off);
    this.workerClock.reserve(slot)[slot] = clock;
  }

  /** Whether any kernel line or link field was read. */
  get any(): boolean {
    return this.tracers.length > 0 || this.n > 0 || this.linked.caller + this.linked.gateway + this.linked.worker > 0;
  }

  private socketOf(role: string, host: string, cookie: number, clock: number): number {
    const key = `${role}\u0000${host}\u0000${cookie}`;
    let i = this.socketIndex.get(key);
    if (i === undefined) {
      i = this.sockets.length;
      this.sockets.push({ conn: 0, clock, first: NaN });
      this.socketIndex.set(key, i);
    }
    return i;
  }

  /** A tracer's start or stop line (`k`), as JSON.parse read it: two per tracer. */
  tracer(role: KernelRole, host: string, r: Record<string, unknown>): void {
    const k = r.k;
    const pid = typeof r.pid === 'number' ? r.pid : -1;
    let run = this.tracers.find((x) => x.role === role && x.host === host && x.pid === pid && !x.stopped);
    if (k === 'start' || !run) {
      run = { role, host, pid, tracer: null, stopped: false, lost: 0, tracer_cpu_us: null, said: null };
      this.tracers.push(run);
    }
    if (k === 'start') run.tracer = typeof r.tracer === 'string' ? r.tracer : null;
    else {
      run.stopped = true;
      run.lost = typeof r.lost === 'number' ? r.lost : 0;
      run.tracer_cpu_us = typeof r.tracer_cpu_us === 'number' ? r.tracer_cpu_us : null;
      run.said = typeof r.tracer_said === 'string' ? r.tracer_said : null;
    }
  }
}
