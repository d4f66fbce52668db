import { connect, type Socket } from 'node:net';
import { SummaryLog, type Logger } from '../log.js';
import { now } from '../trace/clock.js';
import { balancer, type BalancePolicy, type Pick } from './balance.js';
import { BatchWriter } from './batch-writer.js';
import { CallTable } from './call-table.js';
import { decodeMessage, encodeCall, encodeMessage } from './codec.js';
import { FrameReader } from './frame-reader.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES, PROTOCOL_VERSION, type ReplyMessage, type ResultForm } from './protocol.js';

/** The outcome of one call at the link level. A reply that carries a function
 *  error is still `ok`: the link worked. */
export type CallResult =
  | { ok: true; reply: ReplyMessage; t2: bigint; t4: bigint; worker: string }
  | {
      ok: false;
      code: 'worker_unavailable' | 'gateway_timeout' | 'payload_too_large';
      message: string;
      t2: bigint | null;
      worker: string | null;
    };

/** Receives a call's outcome, exactly once. */
export type CallDone = (result: CallResult) => void;

interface Pending {
  resolve: CallDone;
  t2: bigint | null;
  deadline: number;
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
  /** How replies carry results: `body` (default), the answer's bytes; `value`, msgpack values to decode. */
  results?: ResultForm;
}

/** Keeps one persistent, self-healing connection to one worker. Many calls are
 *  in flight on it at once, matched by call id. */
class WorkerConnection {
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
  /** Welcomes received: the connection came up this often. */
  welcomes = 0;

  constructor(
    readonly address: string,
    private readonly options: RpcClientOptions,
    private readonly connectionErrors: SummaryLog,
  ) {
    this.open();
  }

  get isReady(): boolean {
    return this.ready;
  }

  serves(fn: string): boolean {
    return this.ready && this.functions.has(fn);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((r) => this.readyWaiters.push(r));
  }

  call(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null, done: CallDone): void {
    const cid = this.nextCid;
    this.nextCid = cid >= 0xffffffff ? 1 : cid + 1;
    const frame = encodeCall(cid, rid, fn, args, traceId);
    const max = this.options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (frame.length - FRAME_HEADER_BYTES > max) {
      // The worker would drop the whole connection for it: this call alone fails.
      const message = `the call needs a frame of ${frame.length - FRAME_HEADER_BYTES} bytes; the RPC frame limit is ${max}`;
      return queueMicrotask(() => done({ ok: false, code: 'payload_too_large', message, t2: null, worker: this.address }));
    }
    const entry: Pending = { resolve: done, t2: null, deadline: performance.now() + this.options.timeoutMs };
    this.pending.add(cid, entry);
    this.writer!.enqueue(frame, entry);
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
    const reader = new FrameReader(
      this.options.maxFrameBytes ?? MAX_FRAME_BYTES,
      (bodies) => this.receive(socket, bodies),
      (err) => {
        this.options.logger.error({ worker: this.address, err }, 'bad frame from worker; reconnecting');
        socket.destroy();
      },
    );
    const socket = connect({ host, port, noDelay: true, onread: reader.onread });
    this.socket = socket;
    this.writer = new BatchWriter<Pending>(
      socket,
      (_frame, entry, stamp) => {
        entry.t2 = stamp;
      },
      // Other calls awaiting replies: this one may wait for the poll phase to end and share their write.
      () => this.pending.size > 1,
    );
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
      if (!this.closed) this.scheduleReconnect();
    });
  }

  /** The bodies one read completed; t4 is each one's, taken before it is decoded. */
  private receive(socket: Socket, bodies: Buffer[]): void {
    for (const body of bodies) {
      const t4 = now();
      let message;
      try {
        message = decodeMessage(body);
      } catch (err) {
        this.options.logger.error({ worker: this.address, err }, 'bad message from worker; reconnecting');
        socket.destroy();
        return;
      }
      if (message.t === 'reply') {
        const entry = this.pending.take(message.cid);
        if (!entry) {
          // The gateway's time limit already answered this call.
          this.options.logger.debug({ worker: this.address, cid: message.cid }, 'late reply dropped');
          continue;
        }
        this.settle(entry, { ok: true, reply: message, t2: entry.t2!, t4, worker: this.address });
      } else if (message.t === 'welcome') {
        this.functions = new Set(Array.isArray(message.fns) ? message.fns.filter((f) => typeof f === 'string') : []);
        this.ready = true;
        this.welcomes++;
        this.backoffMs = 50;
        this.options.logger.info({ worker: this.address }, 'connected to worker');
        for (const w of this.readyWaiters.splice(0)) w();
      } else if (message.t === 'error') {
        this.options.logger.error({ worker: this.address, code: message.code }, `worker refused: ${message.message}`);
      }
    }
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

/** Calls functions on one or several workers over persistent connections. */
export class RpcClient {
  private readonly connections: WorkerConnection[] = [];
  private readonly pick: Pick;
  private readonly sweeper: NodeJS.Timeout;
  private readonly connectionErrors: SummaryLog;

  constructor(private readonly options: RpcClientOptions) {
    if (options.workers.length === 0) throw new Error('at least one worker address is needed');
    this.connectionErrors = new SummaryLog(options.logger, 'worker connection error');
    this.pick = balancer(options.balance ?? 'round-robin');
    const perWorker = options.connectionsPerWorker ?? 1;
    for (const address of options.workers) {
      splitAddress(address); // validate early
      for (let i = 0; i < perWorker; i++) this.connections.push(new WorkerConnection(address, options, this.connectionErrors));
    }
    const sweepMs = Math.max(5, Math.min(100, options.timeoutMs / 4));
    this.sweeper = setInterval(() => {
      const t = performance.now();
      for (const c of this.connections) c.expire(t);
    }, sweepMs);
    this.sweeper.unref();
  }

  /** Resolves once at least one worker is connected. */
  whenAnyReady(): Promise<void> {
    return Promise.race(this.connections.map((c) => c.whenReady()));
  }

  /** Calls sent and not yet answered, over every connection. */
  get inFlight(): number {
    let n = 0;
    for (const c of this.connections) n += c.inFlight;
    return n;
  }

  /** Whether a connected worker announced a function of this name. */
  serves(fn: string): boolean {
    return this.connections.some((c) => c.serves(fn));
  }

  get readyCount(): number {
    return this.connections.filter((c) => c.isReady).length;
  }

  /** Times a connection came up again after its first time. */
  get reconnects(): number {
    let n = 0;
    for (const c of this.connections) n += Math.max(0, c.welcomes - 1);
    return n;
  }

  /** Never rejects: link failures come back as `{ ok: false }` at once. `traceId`: the request's W3C trace id, carried to the worker's record. */
  call(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null = null): Promise<CallResult> {
    return new Promise((resolve) => this.send(rid, fn, args, traceId, resolve));
  }

  /** call() without a promise: `done` gets the outcome, never synchronously. The gateway's path, one promise fewer per request. */
  send(rid: string, fn: string, args: Record<string, unknown>, traceId: string | null, done: CallDone): void {
    const i = this.pick(this.connections);
    if (i !== -1) return this.connections[i]!.call(rid, fn, args, traceId, done);
    const message = `no worker connected (${this.options.workers.join(', ')})`;
    queueMicrotask(() => done({ ok: false, code: 'worker_unavailable', message, t2: null, worker: null }));
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.connections) c.close();
    this.connectionErrors.close();
  }
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
