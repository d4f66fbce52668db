/**
 * Kernel stamps per request, from the tracers' events and the records' link
 * fields (docs/measurement.md#the-links-split-by-the-kernel). Every stamp is
 * found on the host that took it and kept on the clock of the record it
 * belongs to, so stages subtract it like any other stamp of that host:
 * - k1: the request's first segment reached the gateway's socket;
 * - k5: the gateway's kernel took the response's first byte (HTTP fronts);
 * - k6: the response's first segment reached the caller's socket;
 * - k3: the call's first segment reached the worker's socket;
 * - k4: the reply's first segment reached the gateway's socket.
 * On a connection with one message at a time (HTTP/1.1, a caller's RPC
 * connection) a message is the tracer's `msg`: the latest one at or before
 * the record's read stamp, if no earlier request of the connection already
 * took it (the caller's must also come after its t0). On the RPC link the
 * frame's offset picks its segment.
 */
import { MSG, SEG, SEND, type KernelIngest } from './kernel.js';
import { HAS_CALLER, HAS_GATEWAY, HAS_WORKER, KERNEL_STAMPS, type KernelColumns, type KernelStamp, type RequestTable } from './table.js';

// The table owns its columns, the kernel's among them; they are named here too, where they are made.
export { KERNEL_STAMPS, type KernelColumns, type KernelStamp };

export interface KernelJoinCounts {
  /** Per stamp: requests whose record named a connection, and of them those that got the stamp. */
  wanted: Record<KernelStamp, number>;
  found: Record<KernelStamp, number>;
  /** Why a wanted stamp was not found, per stamp and reason. */
  missing: Record<KernelStamp, Record<string, number>>;
}

/** A request waiting for its message start: its read stamp and lower bound on the socket's clock. */
interface MessageRead {
  slot: number;
  /** The record's clock. */
  clock: number;
  read: number;
  after: number;
  stamp: KernelStamp;
}

/** One socket's events, sorted: message starts and sends by time, segments by offset. */
interface SocketEvents {
  msg: Float64Array;
  send: Float64Array;
  segOff: Float64Array;
  segEnd: Float64Array;
  segT: Float64Array;
}

export function joinKernel(t: RequestTable, k: KernelIngest): { columns: KernelColumns; counts: KernelJoinCounts } {
  const n = t.size;
  const columns = Object.fromEntries(KERNEL_STAMPS.map((s) => [s, new Float64Array(n).fill(NaN)])) as KernelColumns;
  const zero = () => Object.fromEntries(KERNEL_STAMPS.map((s) => [s, 0])) as Record<KernelStamp, number>;
  const counts: KernelJoinCounts = { wanted: zero(), found: zero(), missing: Object.fromEntries(KERNEL_STAMPS.map((s) => [s, {}])) as KernelJoinCounts['missing'] };
  const miss = (stamp: KernelStamp, why: string): void => {
    counts.missing[stamp][why] = (counts.missing[stamp][why] ?? 0) + 1;
  };
  const events = eventsBySocket(k);
  const incarnations = socketsByConn(k);
  const shift = shifts(t);

  /** The socket of a connection alive at `at` (record clock `clock`): the last one first seen by then. */
  const socketAt = (conn: number, clock: number, at: number): number => {
    const list = incarnations.get(conn);
    if (!list) return -1;
    let best = -1;
    for (const s of list) {
      const sock = k.sockets[s]!;
      if (sock.first <= at + shift(clock, sock.clock)) best = s;
    }
    return best;
  };

  // Segments by offset: the worker's k3, the gateway's k4 (and a TCP front's k1).
  const bySegment = (stamp: KernelStamp, conn: number, off: number, clock: number, read: number, slot: number, into: number) => {
    counts.wanted[stamp]++;
    const s = socketAt(conn, clock, read);
    if (s < 0) return miss(stamp, 'connection not traced');
    const arrival = segmentAt(events[s]!, off);
    if (arrival !== arrival) return miss(stamp, 'no segment at its offset');
    const local = arrival + shift(k.sockets[s]!.clock, clock);
    if (local > read) return miss(stamp, 'segment after its read');
    columns[stamp][slot] = local + shift(clock, into);
    counts.found[stamp]++;
  };

  // Message starts: requests grouped by socket, then matched in the order of their read stamps.
  // A socket is read by one role only: its requests' read stamps are all one stamp (t1, t6 or t4).
  const byMessage = new Map<number, MessageRead[]>();
  const viaMessage = (stamp: KernelStamp, conn: number, clock: number, read: number, after: number, slot: number) => {
    counts.wanted[stamp]++;
    const s = socketAt(conn, clock, read);
    if (s < 0) return miss(stamp, 'connection not traced');
    const c = shift(clock, k.sockets[s]!.clock);
    let list = byMessage.get(s);
    if (!list) byMessage.set(s, (list = []));
    list.push({ slot, clock, read: read + c, after: after + c, stamp });
  };

  const { flags } = t.u8;
  const f = t.f64;
  for (let i = 0; i < n; i++) {
    const fl = flags[i]!;
    if (fl & HAS_CALLER) {
      const conn = k.callerConn.data[i] ?? 0;
      if (conn) viaMessage('k6', conn, t.u16.callerClock[i]!, f.t6[i]!, f.t0[i]!, i);
    }
    if (fl & HAS_GATEWAY) {
      const clock = t.u16.gatewayClock[i]!;
      const front = k.frontConn.data[i] ?? 0;
      const frontOff = k.frontOff.data[i] ?? NaN;
      if (front && frontOff === frontOff) bySegment('k1', front, frontOff, clock, f.t1[i]!, i, clock);
      else if (front) viaMessage('k1', front, clock, f.t1[i]!, -Infinity, i);
      const rpc = k.rpcConn.data[i] ?? 0;
      const rpcOff = k.rpcOff.data[i] ?? NaN;
      if (rpc && rpcOff === rpcOff) bySegment('k4', rpc, rpcOff, clock, f.t4[i]!, i, clock);
      // Direct mode: the caller stands in for the front, one call at a time on its connection.
      else if (rpc) viaMessage('k4', rpc, clock, f.t4[i]!, f.t2[i]!, i);
    }
    if (fl & HAS_WORKER) {
      const conn = k.workerConn.data[i] ?? 0;
      if (conn) {
        const clock = k.workerClock.data[i]!;
        const into = t.u16.t3Clock[i]!;
        bySegment('k3', conn, k.workerOff.data[i]!, clock, f.t3_recv[i]! + shift(into, clock), i, into);
      }
    }
  }

  for (const [s, list] of byMessage) {
    const ev = events[s]!;
    list.sort((a, b) => a.read - b.read);
    let taken = -1;
    for (const r of list) {
      const toRecord = shift(k.sockets[s]!.clock, r.clock);
      const m = lastAtOrBefore(ev.msg, r.read);
      if (m < 0 || ev.msg[m]! <= r.after) {
        miss(r.stamp, 'no message start before its read');
        continue;
      }
      if (m <= taken) {
        // An earlier request of this connection took it: this one's own start was not seen.
        miss(r.stamp, 'message start not seen');
        continue;
      }
      taken = m;
      columns[r.stamp][r.slot] = ev.msg[m]! + toRecord;
      counts.found[r.stamp]++;
      if (r.stamp === 'k1') sendAfter(ev, r, toRecord);
    }
  }

  /** k5: the first send on the socket after the request was read (t1) and no later than t5. */
  function sendAfter(ev: SocketEvents, r: MessageRead, toRecord: number): void {
    counts.wanted.k5++;
    const j = firstAfter(ev.send, r.read);
    const t5 = f.t5[r.slot]! - toRecord;
    if (j < 0 || !(ev.send[j]! <= t5)) return miss('k5', 'no send between t1 and t5');
    columns.k5[r.slot] = ev.send[j]! + toRecord;
    counts.found.k5++;
  }

  return { columns, counts };
}

/** The events of every socket, sorted. */
function eventsBySocket(k: KernelIngest): SocketEvents[] {
  const sizes = k.sockets.map(() => ({ msg: 0, send: 0, seg: 0 }));
  const sock = k.evSocket.data;
  const kind = k.evKind.data;
  for (let e = 0; e < k.n; e++) {
    const z = sizes[sock[e]!]!;
    if (kind[e] === MSG) z.msg++;
    else if (kind[e] === SEND) z.send++;
    else z.seg++;
  }
  const out: SocketEvents[] = sizes.map((z) => ({
    msg: new Float64Array(z.msg),
    send: new Float64Array(z.send),
    segOff: new Float64Array(z.seg),
    segEnd: new Float64Array(z.seg),
    segT: new Float64Array(z.seg),
  }));
  const fill = sizes.map(() => ({ msg: 0, send: 0, seg: 0 }));
  const T = k.evT.data;
  const off = k.evOff.data;
  const len = k.evLen.data;
  for (let e = 0; e < k.n; e++) {
    const s = sock[e]!;
    const o = out[s]!;
    const at = fill[s]!;
    if (kind[e] === MSG) o.msg[at.msg++] = T[e]!;
    else if (kind[e] === SEND) o.send[at.send++] = T[e]!;
    else {
      o.segOff[at.seg] = off[e]!;
      o.segEnd[at.seg] = off[e]! + len[e]!;
      o.segT[at.seg++] = T[e]!;
    }
  }
  for (const o of out) {
    o.msg.sort();
    o.send.sort();
    sortSegments(o);
  }
  return out;
}

/** Segments by offset, the earliest first among equal offsets (a retransmission repeats one); usually already in order. */
function sortSegments(o: SocketEvents): void {
  const n = o.segOff.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    if (o.segOff[i]! < o.segOff[i - 1]! || (o.segOff[i] === o.segOff[i - 1] && o.segT[i]! < o.segT[i - 1]!)) sorted = false;
  }
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => o.segOff[a]! - o.segOff[b]! || o.segT[a]! - o.segT[b]!);
  const pick = (a: Float64Array) => Float64Array.from(order, (i) => a[i]!);
  o.segOff = pick(o.segOff);
  o.segEnd = pick(o.segEnd);
  o.segT = pick(o.segT);
}

/** The arrival of the segment holding byte `off` (the earliest, if it came more than once); NaN when none does. */
function segmentAt(o: SocketEvents, off: number): number {
  const i = lastAtOrBefore(o.segOff, off);
  let best = NaN;
  // Earlier segments may reach past `off` too (a retransmission of a longer one): the earliest arrival counts.
  for (let j = i; j >= 0 && j > i - 8; j--) {
    if (o.segEnd[j]! > off && !(o.segT[j]! >= best)) best = o.segT[j]!;
  }
  return best;
}

/** Index of the last value ≤ x in a sorted array, or -1. */
function lastAtOrBefore(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the first value > x in a sorted array, or -1. */
function firstAfter(a: Float64Array, x: number): number {
  const i = lastAtOrBefore(a, x) + 1;
  return i < a.length ? i : -1;
}

/** Connections' sockets (a connection's address pair can come back with a new socket), in the order they were first seen. */
function socketsByConn(k: KernelIngest): Map<number, number[]> {
  const out = new Map<number, number[]>();
  k.sockets.forEach((s, i) => {
    if (s.conn === 0) return;
    let list = out.get(s.conn);
    if (!list) out.set(s.conn, (list = []));
    list.push(i);
  });
  for (const list of out.values()) list.sort((a, b) => k.sockets[a]!.first - k.sockets[b]!.first);
  return out;
}

/** shift(a, b): add to a stamp relative to clock a to make it relative to clock b (both of one host). */
function shifts(t: RequestTable): (a: number, b: number) => number {
  const memo = new Map<number, number>();
  return (a, b) => {
    if (a === b) return 0;
    const key = a * 65536 + b;
    let d = memo.get(key);
    if (d === undefined) memo.set(key, (d = t.clocks.baseDifference(a, b)));
    return d;
  };
}
