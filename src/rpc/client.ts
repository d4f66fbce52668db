import { connect, type Socket } from 'node:net';
import { SummaryLog, type Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { balancer, type BalancePolicy, type Pick } from './balance.js';
import { Fleet, type EjectionOptions, type FleetEvent, type FleetLink, type HealthOptions, type Verdict } from './fleet.js';
import { BatchWriter } from './batch-writer.js';
import { CallTable } from './call-table.js';
import { decodeMessage, encodeCall, encodeMessage } from './codec.js';
import { FrameReader } from './frame-reader.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, PING_VERSION, PROTOCOL_VERSION, type Nesting, type ReplyMessage, type ResultForm } from './protocol.js';
import { frameAt } from '../kernel/conn.js';
import type { FrameAt } from '../trace/records.js';

/** The first attempt of a call retried on another worker (RpcClientOptions.retryLost). */
export interface FirstAttempt {
  worker: string;
  /** When it went to the socket (null: it never did), and when it failed. */
  t2: bigint | null;
  failed: bigint;
  error: string;
}

/** The outcome of one call at the link level. A reply that carries a function
 *  error is still `ok`: the link worked. `retry`: the failed first attempt, when this is the second. */
export type CallResult =
  /** `at`: where the reply frame arrived, when the client was asked for frame offsets (kernel stamps). */
  | { ok: true; reply: ReplyMessage; t2: bigint; t4: bigint; worker: string; at?: FrameAt; retry?: FirstAttempt }
  | {
      ok: false;
      code: 'worker_unavailable' | 'gateway_timeout' | 'payload_too_large' | 'cancelled';
      message: string;
      t2: bigint | null;
      worker: string | null;
      retry?: FirstAttempt;
    };

/** Receives a call's outcome, exactly once. */
export type CallDone = (result: CallResult) => void;

interface Pending {
  resolve: CallDone;
  t2: bigint | null;
  deadline: number;
  /** performance.now() when it was handed to this connection. */
  start: number;
  /** What a retry would send again: kept only with retries on. */
  call: RetriableCall | null;
}

interface RetriableCall {
  rid: string;
  fn: string;
  args: Record<string, unknown>;
  traceId: string | null;
  nest: Nesting | null;
  /** The first attempt, once this is the second. */
  first: FirstAttempt | null;
}

/** Calls in flight over every connection of a client, and the time they spent in flight: the integral of the in-flight gauge. */
interface Busy {
  count: number;
  /** The sum of the start times of the calls in flight (ms). */
  startSum: number;
  /** The time in flight of the calls already answered (ms). */
  doneMs: number;
}

/** What the client's fleet learns from each connection. */
interface LinkHooks {
  /** A call ended; true when the hook takes it over (a retry) instead of resolving it. */
  settled(link: WorkerConnection, entry: Pending, result: CallResult): boolean;
  state(link: WorkerConnection, up: boolean): void;
  pong(link: WorkerConnection, n: number): void;
  busy: Busy;
}

export interface RpcClientOptions {
  /** host:port of each worker. */
  workers: string[];
  logger: Logger;
  /** The gateway's own limit for one call, reply included. */
  timeoutMs: number;
  secret?: string;
  connectionsPerWorker?: number;
  maxFrameBytes?: number;
  /** How a call picks its connection; default round-robin. */
  balance?: BalancePolicy;
  /** Tell each reply's connection and offset in the stream (`at`), for kernel stamps. */
  frameOffsets?: boolean;
  /** How replies carry results: `body` (default), the answer's bytes; `value`, msgpack values to decode. */
  results?: ResultForm;
  /** The worker set changes (setWorkers); it may start empty. */
  dynamic?: boolean;
  /** Pings and their thresholds (fleet.ts); default DEFAULT_HEALTH. */
  health?: HealthOptions;
  /** Outlier ejection (fleet.ts); default DEFAULT_EJECTION. */
  ejection?: EjectionOptions;
  /**
   * A call whose connection closed before its reply came is sent once more,
   * to another worker. It may have started on the lost one: a function that
   * must run at most once wants this off (the default).
   */
  retryLost?: boolean;
  /** Every change of the fleet. */
  onFleetEvent?: (e: FleetEvent) => void;
}

/** Keeps one persistent, self-healing connection to one worker. Many calls are
 *  in flight on it at once, matched by call id. */
/** Serials of links, for cancel handles (below 2^21, so that serial × 2^32 + cid stays an exact number). */
let lastSerial = 0;

class WorkerConnection implements FleetLink {
  /** Names this link in cancel handles: an index would name another link once the fleet changes. */
  readonly serial = (lastSerial = (lastSerial % 0x1fffff) + 1);
  private socket: Socket | null = null;
  private ready = false;
  private closed = false;
  private nextCid = 1;
  private pending = new CallTable<Pending>();
  private writer: BatchWriter<Pending> | null = null;
  private backoffMs = 50;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readyWaiters: Array<() => void> = [];
  /** What the worker announced in its welcome. */
  private functions: ReadonlySet<string> = new Set();
  /** The worker reads `cancel` frames (its welcome said so). */
  private readsCancel = false;
  /** Welcomes received: the connection came up this often. */
  welcomes = 0;
  /** The fleet's say: whether calls may be sent here (not draining, ejected or unhealthy). */
  admitted = true;
  /** The version the worker's welcome agreed to. */
  private version = 1;

  constructor(
    readonly address: string,
    private readonly options: RpcClientOptions,
    private readonly connectionErrors: SummaryLog,
    private readonly hooks: LinkHooks,
  ) {
    this.open();
  }

  get isReady(): boolean {
    return this.ready && this.admitted;
  }

  get connected(): boolean {
    return this.ready;
  }

  serves(fn: string): boolean {
    return this.isReady && this.functions.has(fn);
  }

  ping(n: number): boolean {
    if (!this.ready || this.version < PING_VERSION || !this.socket) return false;
    this.socket.write(encodeMessage({ t: 'ping', n }));
    return true;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  /** Sends a call; returns its cid, for cancel(), or 0 when it was not sent. `call`: kept for a retry (with
   *  retries on); `deadline`: a retry keeps its first attempt's. */
  call(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null, done: CallDone, nest: Nesting | null = null, call: RetriableCall | null = null, deadline?: number): number {
    const cid = this.nextCid;
    this.nextCid = cid >= 0xffffffff ? 1 : cid + 1;
    const frame = encodeCall(cid, rid, fn, args, traceId, nest);
    const max = this.options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (frame.length - FRAME_HEADER_BYTES > max) {
      // The worker would drop the whole connection for it: this call alone fails.
      const message = `the call needs a frame of ${frame.length - FRAME_HEADER_BYTES} bytes; the RPC frame limit is ${max}`;
      queueMicrotask(() => done({ ok: false, code: 'payload_too_large', message, t2: null, worker: this.address }));
      return 0;
    }
    const start = performance.now();
    const entry: Pending = { resolve: done, t2: null, deadline: deadline ?? start + this.options.timeoutMs, start, call };
    const busy = this.hooks.busy;
    busy.count++;
    busy.startSum += start;
    this.pending.add(cid, entry);
    this.writer!.enqueue(frame, entry);
    return cid;
  }

  /** The call's own client left: it is answered `cancelled` now, and the worker told to stop it; its late reply is dropped. */
  cancel(cid: number): void {
    const entry = this.pending.take(cid);
    if (!entry) return;
    if (this.readsCancel && this.ready) this.writer!.enqueue(encodeMessage({ t: 'cancel', cid }), { resolve: () => {}, t2: null, deadline: 0, start: 0, call: null });
    this.settle(entry, { ok: false, code: 'cancelled', message: 'the client left before the answer', t2: entry.t2, worker: this.address });
  }

  /** Fails calls past their deadline; their late replies are then dropped. */
  expire(nowMs: number): void {
    for (const entry of this.pending.takeWhere((e) => e.deadline <= nowMs)) {
      this.settle(entry, {
        ok: false,
        code: 'gateway_timeout',
        message: `no reply from worker ${this.address} within ${this.options.timeoutMs} ms`,
        t2: entry.t2,
        worker: this.address,
      });
    }
  }

  /** A caller's callback that throws must not cost the other calls of the same chunk their replies. */
  private settle(entry: Pending, result: CallResult): void {
    const busy = this.hooks.busy;
    busy.count--;
    busy.startSum -= entry.start;
    busy.doneMs += performance.now() - entry.start;
    if (entry.call?.first) result.retry = entry.call.first;
    if (this.hooks.settled(this, entry, result)) return;
    try {
      entry.resolve(result);
    } catch (err) {
      this.options.logger.error({ worker: this.address, err }, 'a call\'s reply handler failed');
    }
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
    this.failAll('the gateway is shutting down');
  }

  private open(): void {
    const { host, port } = splitAddress(this.address);
    // Where the next frame starts in this connection's stream: the kernel join's key for a reply.
    let offset = 0;
    const reader = new FrameReader(
      this.options.maxFrameBytes ?? MAX_FRAME_BYTES,
      (bodies) => (offset = this.receive(socket, bodies, offset)),
      (err) => {
        this.options.logger.error({ worker: this.address, err }, 'bad frame from worker; reconnecting');
        socket.destroy();
      },
    );
    const socket = connect({ host, port, noDelay: true, onread: reader.onread });
    this.socket = socket;
    this.writer = new BatchWriter<Pending>(socket, {
      onFlush: (_frame, entry, stamp) => {
        entry.t2 = stamp;
      },
      // Other calls awaiting replies: this one may wait for the poll phase to end and share their write.
      busy: () => this.pending.size > 1,
    });
    socket.once('connect', () => {
      socket.write(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, secret: this.options.secret, results: this.options.results ?? 'body' }));
    });
    socket.on('error', (err) => {
      // At warn, or a gateway aimed at a wrong address fails silently; summarised, as it repeats on every retry.
      this.connectionErrors.note((err as NodeJS.ErrnoException).code ?? 'error', this.address, { err: err.message });
    });
    socket.once('close', () => {
      const wasReady = this.ready;
      this.ready = false;
      this.socket = null;
      if (wasReady && !this.closed) this.options.logger.warn({ worker: this.address }, 'lost the worker; reconnecting');
      this.failAll(`the connection to worker ${this.address} closed`);
      if (wasReady) this.hooks.state(this, false);
      if (!this.closed) this.scheduleReconnect();
    });
  }

  /** The bodies one read completed; t4 is each one's, taken before it is decoded. Returns the stream offset after them. */
  private receive(socket: Socket, bodies: Buffer[], offset: number): number {
    const offsets = this.options.frameOffsets === true;
    for (const body of bodies) {
      const t4 = now();
      const at = offsets ? frameAt(socket, offset) : undefined;
      offset += FRAME_HEADER_BYTES + body.length;
      let message;
      try {
        message = decodeMessage(body);
      } catch (err) {
        this.options.logger.error({ worker: this.address, err }, 'bad message from worker; reconnecting');
        socket.destroy();
        return offset;
      }
      if (message.t === 'reply') {
        const entry = this.pending.take(message.cid);
        if (!entry) {
          // The gateway's time limit already answered this call.
          this.options.logger.debug({ worker: this.address, cid: message.cid }, 'late reply dropped');
          continue;
        }
        this.settle(entry, at ? { ok: true, reply: message, t2: entry.t2!, t4, worker: this.address, at } : { ok: true, reply: message, t2: entry.t2!, t4, worker: this.address });
      } else if (message.t === 'welcome') {
        this.functions = new Set(Array.isArray(message.fns) ? message.fns.filter((f) => typeof f === 'string') : []);
        this.readsCancel = message.cancel === true;
        this.version = typeof message.v === 'number' ? message.v : 1;
        this.ready = true;
        this.welcomes++;
        this.backoffMs = 50;
        this.options.logger.info({ worker: this.address }, 'connected to worker');
        this.hooks.state(this, true);
        for (const w of this.readyWaiters.splice(0)) w();
      } else if (message.t === 'pong') {
        this.hooks.pong(this, message.n);
      } else if (message.t === 'error') {
        this.options.logger.error({ worker: this.address, code: message.code }, `worker refused: ${message.message}`);
      }
    }
    return offset;
  }

  private failAll(message: string): void {
    for (const entry of this.pending.takeAll()) this.settle(entry, { ok: false, code: 'worker_unavailable', message, t2: entry.t2, worker: this.address });
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.open();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
  }
}

/** Calls functions on one or several workers over persistent connections; the set of workers may change (fleet.ts). */
export class RpcClient {
  readonly fleet: Fleet;
  private readonly pick: Pick;
  private readonly sweeper: NodeJS.Timeout;
  private readonly connectionErrors: SummaryLog;
  private readonly busy: Busy = { count: 0, startSum: 0, doneMs: 0 };
  private readonly slowNs: bigint;
  /** Calls sent again after their worker was lost. */
  retries = 0;
  /** Reconnects of links the fleet has since removed. */
  private retiredReconnects = 0;
  private closing = false;

  constructor(private readonly options: RpcClientOptions) {
    if (options.workers.length === 0 && !options.dynamic) throw new Error('at least one worker address is needed');
    for (const address of options.workers) splitAddress(address); // validate early
    this.connectionErrors = new SummaryLog(options.logger, 'worker connection error');
    this.pick = balancer(options.balance ?? 'round-robin');
    this.slowNs = BigInt(Math.round((options.ejection?.slowMs ?? 0) * 1e6));
    const perWorker = options.connectionsPerWorker ?? 1;
    const hooks: LinkHooks = {
      busy: this.busy,
      settled: (link, entry, result) => this.settled(link, entry, result),
      state: (link, up) => this.fleet.linkState(link, up),
      pong: (link, n) => this.fleet.pong(link, n),
    };
    this.fleet = new Fleet({
      health: options.health,
      ejection: options.ejection,
      onEvent: options.onFleetEvent,
      connect: (address) =>
        Array.from({ length: perWorker }, () => {
          const link = new WorkerConnection(address, options, this.connectionErrors, hooks);
          const close = link.close.bind(link);
          // A removed worker's reconnects stay counted: the metric is a counter.
          link.close = () => {
            this.retiredReconnects += Math.max(0, link.welcomes - 1);
            close();
          };
          return link;
        }),
    });
    this.fleet.set(options.workers);
    const sweepMs = Math.max(5, Math.min(100, options.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      const t = performance.now();
      for (const c of this.fleet.links) (c as WorkerConnection).expire(t);
    }, sweepMs);
    this.sweeper.unref();
  }

  private get connections(): WorkerConnection[] {
    return this.fleet.links as WorkerConnection[];
  }

  /** The workers from now on (a dynamic client): see Fleet.set. Throws on a malformed address, changing nothing. */
  setWorkers(addresses: readonly string[]): void {
    for (const address of addresses) splitAddress(address);
    this.fleet.set(addresses);
  }

  /** Resolves once at least one worker is connected. */
  whenAnyReady(): Promise<void> {
    return Promise.race(this.connections.map((c) => c.whenReady()));
  }

  /** Calls sent and not yet answered, over every connection. */
  get inFlight(): number {
    return this.busy.count;
  }

  /** Seconds of calls in flight so far, summed over calls: its rate is the mean number in flight. */
  get busySeconds(): number {
    const b = this.busy;
    return (b.doneMs + b.count * performance.now() - b.startSum) / 1000;
  }

  /** Whether a connected worker announced a function of this name. */
  serves(fn: string): boolean {
    return this.connections.some((c) => c.serves(fn));
  }

  get readyCount(): number {
    return this.connections.filter((c) => c.connected).length;
  }

  /** Times a connection came up again after its first time. */
  get reconnects(): number {
    let n = this.retiredReconnects;
    for (const c of this.connections) n += Math.max(0, c.welcomes - 1);
    return n;
  }

  /**
   * Never rejects: link failures come back as `{ ok: false }` at once. `traceId`: the request's W3C trace id, carried to the worker's record;
   * `nest`: a nested call's nesting.
   */
  call(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null = null, nest: Nesting | null = null): Promise<CallResult> {
    return new Promise((resolve) => this.send(rid, fn, args, traceId, resolve, nest));
  }

  /**
   * call() without a promise: `done` gets the outcome, never synchronously.
   * The gateway's path, one promise fewer per request. Returns a handle for
   * cancel() (a number, so that a request costs no object for it); -1 when
   * the call was not sent.
   */
  send(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null, done: CallDone, nest: Nesting | null = null): number {
    return this.dispatch(rid, fn, args, traceId, done, nest, this.options.retryLost ? { rid, fn, args, traceId, nest, first: null } : null);
  }

  /**
   * A call of send() whose answer nobody waits for any more: its `done` gets `cancelled` at once, and the worker is
   * told. A call already retried on another worker is not found by its first handle: it runs on, and settles as usual.
   */
  cancel(handle: number): void {
    if (handle < 0) return;
    const serial = Math.floor(handle / 2 ** 32);
    this.connections.find((c) => c.serial === serial)?.cancel(handle % 2 ** 32);
  }

  private dispatch(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null, done: CallDone, nest: Nesting | null, call: RetriableCall | null, deadline?: number): number {
    const links = this.connections;
    const i = this.pick(links);
    if (i !== -1) {
      const link = links[i]!;
      const cid = link.call(rid, fn, args, traceId, done, nest, call, deadline);
      // The link's serial, not its index: the fleet's links change while calls are in flight.
      return cid === 0 ? -1 : link.serial * 2 ** 32 + cid;
    }
    const message = `no worker connected (${this.fleet.size === 0 ? 'the fleet is empty' : this.describeFleet()})`;
    const retry = call?.first ?? undefined;
    queueMicrotask(() => done({ ok: false, code: 'worker_unavailable', message, t2: null, worker: null, ...(retry ? { retry } : {}) }));
    return -1;
  }

  /** The workers, each with its state unless it is just not connected. */
  private describeFleet(): string {
    const seen = new Set<string>();
    const parts: string[] = [];
    for (const c of this.connections) {
      if (seen.has(c.address)) continue;
      seen.add(c.address);
      const state = this.fleet.stateOf(c.address);
      parts.push(state === 'connecting' || state === null ? c.address : `${c.address} ${state}`);
    }
    return parts.join(', ');
  }

  /** Outlier accounting, and the one retry of a call whose worker was lost before it replied. */
  private settled(link: WorkerConnection, entry: Pending, result: CallResult): boolean {
    this.fleet.settled(link, verdictOf(result, this.slowNs));
    const call = entry.call;
    if (call === null || call.first !== null || result.ok || result.code !== 'worker_unavailable' || this.closing) return false;
    this.retries++;
    call.first = { worker: link.address, t2: result.t2, failed: now(), error: result.code };
    this.dispatch(call.rid, call.fn, call.args, call.traceId, entry.resolve, call.nest, call, entry.deadline);
    return true;
  }

  close(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    this.fleet.close();
    this.connectionErrors.close();
  }
}

/**
 * What a call says of its worker: a timeout, or a reply later than the slow
 * bound, counts against it. A lost connection does not: the link is already
 * out of the choice until it reconnects, and every call it held fails at once.
 */
export function verdictOf(result: CallResult, slowNs: bigint): Verdict {
  if (result.ok) return slowNs > 0n && result.t4 - result.t2 > slowNs ? 'failed' : 'ok';
  return result.code === 'gateway_timeout' ? 'failed' : 'neutral';
}

export function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const digits = address.slice(i + 1);
  const port = /^\d{1,5}$/.test(digits) ? Number(digits) : NaN;
  // A host name or an IP address: no scheme (http://), path or user.
  if (i <= 0 || !/^[\w.:%-]+$/.test(host) || !(port >= 1 && port <= 65535)) {
    throw new Error(`worker address must be HOST:PORT (no scheme such as tcp:// or http://), got ${JSON.stringify(address)}`);
  }
  return { host, port };
}
