/**
 * The two load models over a fixed pool of keep-alive connections.
 *
 * Closed loop: each connection sends its next request as soon as the previous
 * one is answered (or failed).
 *
 * Open loop: request i is due at start + i/R, evenly spaced, never in bursts
 * (autocannon's overallRate instead refills a per-connection quota each
 * second, see connection.ts). A due request goes out on the next free
 * connection; if none is free it waits, and since its latency is taken from
 * its due time, that wait is part of it (no coordinated omission). Nothing is
 * invented: a send that left late is counted as late, one that never left
 * before the end is counted as unsent. Timers have ~1 ms granularity, so
 * sends lag their due time by up to about a millisecond even when idle; that
 * lag is reported (sendLagUs) rather than hidden.
 */
import { now } from '../trace/clock.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Connection, errorClass, type CallerLink } from './connection.js';
import { TcpConnection } from './tcp-connection.js';

/** An HTTP connection, or one speaking the RPC protocol (tcp:// URLs). */
type Link = Connection | TcpConnection;
import type { CallerOutcome } from '../trace/records.js';
import type { ResolvedOptions } from './options.js';
import { LatencyRecorder } from './latency.js';

/** After a failure, a connection waits this long before its next request, so a dead server is not hammered in a tight loop. */
const RETRY_DELAY_MS = 10;
/**
 * When every connection is refused, the caller tries again for this long (a
 * server still starting gets its chance), then gives up before the warm-up:
 * a dead port fails in about a second, not after warm-up and duration.
 */
const UNREACHABLE_GRACE_MS = 1_000;
const UNREACHABLE_RETRY_MS = 100;
/** Connection errors that mean nothing listens there, or there is no such host: nothing to measure. */
const UNREACHABLE: Record<string, string> = {
  econnrefused: 'connection refused',
  enotfound: 'no such host',
  eai_again: 'the host name could not be looked up',
  ehostunreach: 'host unreachable',
  enetunreach: 'network unreachable',
};

/** Every connection was refused (or its host unknown) for UNREACHABLE_GRACE_MS: no request was sent. */
export class TargetUnreachableError extends Error {
  override name = 'TargetUnreachableError';
}

/** On abort, requests in flight get this long (at most their timeout) before they are recorded as "aborted". */
const ABORT_GRACE_MS = 1_000;
const MS = 1_000_000;

export interface LoopTimes {
  startNs: bigint;
  warmupEndNs: bigint;
  /** When sending stopped: the planned end, the abort, or the last send. */
  stopNs: bigint;
  aborted: boolean;
}

export class LoadLoop {
  readonly sendLag = new LatencyRecorder();
  lateSends = 0;
  unsent = 0;
  inFlight = 0;
  startNs = 0n;
  warmupEndNs = 0n;
  /** The planned end of sending (duration mode), or null. */
  plannedStopNs: bigint | null = null;
  private stoppedAt: bigint | null = null;
  private aborted = false;
  private readonly conns: Link[];
  private readonly idle: Link[] = [];
  private counter = 0;
  private measuredSent = 0;
  private pendingRetries = 0;
  private nextIndex = 0;
  private totalDue = Number.POSITIVE_INFINITY;
  private readonly intervalNs: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private dueTimer: NodeJS.Timeout | null = null;
  private resolveDone: (() => void) | null = null;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly onOutcome: (outcome: CallerOutcome) => void,
  ) {
    const expectBody = o.method !== 'HEAD';
    const tcp = o.tcp;
    // Round-robin per connection over the targets: each keeps its server for the whole run.
    this.conns = Array.from({ length: o.connections }, (_, k) => {
      const target = o.targets[k % o.targets.length]!;
      if (tcp) return new TcpConnection(target, tcp, this.done);
      const conn = new Connection(target, expectBody, this.done);
      conn.head = target.headBeforeId;
      return conn;
    });
    this.intervalNs = o.rate === null ? 0 : 1e9 / o.rate;
  }

  get sending(): boolean {
    return this.stoppedAt === null;
  }

  /** Resolves when sending has stopped and every request has an outcome. */
  async run(signal?: AbortSignal, onStart?: () => void): Promise<LoopTimes> {
    await this.openAll();
    const o = this.o;
    if (o.startAt !== null) await this.waitForStart(o.startAt, signal);
    this.startNs = now();
    this.warmupEndNs = this.startNs + BigInt(Math.round(o.warmupMs * MS));
    if (o.durationMs !== null) {
      this.plannedStopNs = this.warmupEndNs + BigInt(Math.round(o.durationMs * MS));
      this.later(() => this.plannedStop(), Number(this.plannedStopNs - now()) / MS);
    }
    if (o.rate !== null) {
      const warmupDue = Math.ceil((o.warmupMs * MS) / this.intervalNs);
      this.totalDue = o.requests !== null ? warmupDue + o.requests : Math.ceil(Number(this.plannedStopNs! - this.startNs) / this.intervalNs);
    }
    onStart?.();
    const sweep = setInterval(() => this.checkTimeouts(), Math.min(100, Math.max(5, o.timeoutMs / 20)));
    const onAbort = () => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const finished = new Promise<void>((resolve) => (this.resolveDone = resolve));
    if (signal?.aborted) this.abort();
    else if (o.rate === null) for (const conn of this.conns) this.sendClosed(conn);
    else {
      this.idle.push(...this.conns);
      this.pump();
    }
    this.checkFinished();
    await finished;
    clearInterval(sweep);
    signal?.removeEventListener('abort', onAbort);
    for (const t of this.timers) clearTimeout(t);
    for (const conn of this.conns) conn.close();
    return { startNs: this.startNs, warmupEndNs: this.warmupEndNs, stopNs: this.stoppedAt ?? now(), aborted: this.aborted };
  }

  /**
   * Waits for the wall-clock start time on this host's clock (timers cannot
   * wait longer than ~24.8 days, and the wait is bounded to 24 h anyway). A
   * start already past goes at once: the analysis shows the lag.
   */
  private async waitForStart(startAt: number, signal?: AbortSignal): Promise<void> {
    const wait = startAt - Date.now();
    if (wait <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Connect every socket before the clock starts (bounded by the timeout), so
   * no first request pays a handshake. If every one is refused, try again
   * for a moment, then fail (TargetUnreachableError) without sending.
   */
  private async openAll(): Promise<void> {
    await this.lookUpHosts();
    const giveUpAt = Date.now() + UNREACHABLE_GRACE_MS;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<null>((resolve) => (timer = setTimeout(resolve, this.o.timeoutMs, null)));
      const outcomes = await Promise.race([Promise.all(this.conns.map((c) => c.open())), limit]);
      clearTimeout(timer);
      // Some connection is ready, failed otherwise, or still connecting: the run goes ahead and records what happens.
      if (outcomes === null || !outcomes.every((e) => e !== null && e in UNREACHABLE)) return;
      if (Date.now() >= giveUpAt) throw new TargetUnreachableError(this.unreachable(outcomes as string[]));
      await new Promise((resolve) => setTimeout(resolve, UNREACHABLE_RETRY_MS));
    }
  }

  /**
   * Each host name once, before its connections each look it up: a name that
   * does not resolve fails at once, not after as many lookups as there are
   * connections (a slow resolver answers them a few at a time).
   */
  private async lookUpHosts(): Promise<void> {
    const names = new Set(this.o.targets.map((t) => t.host).filter((h) => isIP(h) === 0));
    for (const name of names) {
      try {
        await lookup(name);
      } catch (err) {
        const code = errorClass(err as NodeJS.ErrnoException);
        if (code in UNREACHABLE) throw new TargetUnreachableError(`cannot connect to ${name}: ${UNREACHABLE[code]}`);
      }
    }
  }

  /** "cannot connect to 127.0.0.1:9: connection refused (...)": each target once, with why. */
  private unreachable(errors: readonly string[]): string {
    const why = new Map<string, string>();
    // Connection k went to target k mod n: the first n connections tried each target once.
    this.o.targets.slice(0, errors.length).forEach((t, k) => why.set(`${t.url.hostname}:${t.port}`, UNREACHABLE[errors[k]!]!));
    const each = [...why].map(([target, reason]) => `${target}: ${reason}`).join('; ');
    return `cannot connect to ${each} (tried for ${UNREACHABLE_GRACE_MS / 1000} s; is the server running?)`;
  }

  private readonly done = (link: CallerLink, status: number, bytes: number, error: string | null, t6: bigint): void => {
    const conn = link as Link; // the loop made every link it is called with
    this.inFlight--;
    this.onOutcome({ id: conn.id, warmup: conn.warmup, status, bytes, error, t0: conn.t0, t6, t0_intended: conn.intended, traceId: conn.traceId });
    if (error === null) this.free(conn);
    else {
      this.pendingRetries++;
      this.later(() => {
        this.pendingRetries--;
        this.free(conn);
      }, RETRY_DELAY_MS);
    }
  };

  private free(conn: Link): void {
    if (this.o.rate === null) this.sendClosed(conn);
    else {
      this.idle.push(conn);
      this.pump();
    }
    this.checkFinished();
  }

  private send(conn: Link, intended: bigint | null): bigint {
    const n = this.counter++;
    conn.id = this.o.idPrefix + n.toString(36);
    conn.intended = intended;
    this.inFlight++;
    const t0 = conn instanceof TcpConnection ? conn.send(conn.id) : this.sendHttp(conn, n);
    conn.warmup = (intended ?? t0) < this.warmupEndNs;
    if (!conn.warmup) this.measuredSent++;
    return t0;
  }

  private sendHttp(conn: Connection, n: number): bigint {
    let tail = this.o.headAfterId;
    if (this.o.trace !== null) {
      const hex = n.toString(16).padStart(16, '0');
      conn.traceId = this.o.trace.tracePrefix + hex;
      tail = `\r\ntraceparent: 00-${conn.traceId}-${this.o.trace.spanPrefix}${hex.slice(8)}-01${tail}`;
    }
    return conn.send(conn.head + conn.id + tail, this.o.body);
  }

  private sendClosed(conn: Link): void {
    if (this.stoppedAt !== null) return;
    if (this.plannedStopNs !== null && now() >= this.plannedStopNs) return this.stopSending();
    if (this.o.requests !== null && this.measuredSent >= this.o.requests) return this.stopSending();
    this.send(conn, null);
  }

  /** Open loop: send everything that is due, as far as connections are free; then sleep until the next due time. */
  private pump(): void {
    if (this.stoppedAt !== null) return;
    // Capped by totalDue: nothing due at or after the planned end is ever sent.
    const due = this.dueBy(now());
    while (this.nextIndex < due && this.idle.length > 0) {
      const intended = this.startNs + BigInt(Math.round(this.nextIndex * this.intervalNs));
      this.nextIndex++;
      const t0 = this.send(this.idle.pop()!, intended);
      if (intended >= this.warmupEndNs) {
        const lag = Number(t0 - intended);
        this.sendLag.recordNs(lag);
        if (lag > this.o.lateThresholdMs * MS) this.lateSends++;
      }
    }
    if (this.nextIndex >= this.totalDue) return this.stopSending();
    // A backlog waits for the next free connection (free() pumps); otherwise sleep until the next due time.
    if (this.nextIndex >= due && this.dueTimer === null) {
      const nextDue = this.startNs + BigInt(Math.round(this.nextIndex * this.intervalNs));
      this.dueTimer = this.later(() => {
        this.dueTimer = null;
        this.pump();
      }, Math.max(0, Math.ceil(Number(nextDue - now()) / MS)));
    }
  }

  /** Open loop: how many requests are due by time t (request i is due at start + i/R). */
  private dueBy(t: bigint): number {
    return Math.min(this.totalDue, Math.floor(Number(t - this.startNs) / this.intervalNs) + 1);
  }

  /**
   * The planned end of sending. A timer may fire a little before the end by
   * the monotonic clock (then wait) or after it (then the open loop still
   * sends what fell due before the end and can go out now; the rest is unsent).
   */
  private plannedStop(): void {
    const leftMs = Number(this.plannedStopNs! - now()) / MS;
    if (leftMs > 0) {
      this.later(() => this.plannedStop(), leftMs);
      return;
    }
    if (this.o.rate !== null) this.pump();
    this.stopSending();
  }

  private stopSending(): void {
    if (this.stoppedAt !== null) return;
    this.stoppedAt = now();
    // Unsent: fell due before sending stopped, never went out. Not what was scheduled after an abort.
    if (this.o.rate !== null) this.unsent = Math.max(0, this.dueBy(this.stoppedAt) - this.nextIndex);
    this.checkFinished();
  }

  private abort(): void {
    if (this.aborted || this.resolveDone === null) return;
    this.aborted = true;
    this.stopSending();
    this.later(() => {
      for (const conn of this.conns) conn.fail('aborted');
    }, Math.min(ABORT_GRACE_MS, this.o.timeoutMs));
  }

  private checkTimeouts(): void {
    const limit = BigInt(Math.round(this.o.timeoutMs * MS));
    const t = now();
    for (const conn of this.conns) if (conn.busy && t - conn.t0 > limit) conn.fail('timeout');
  }

  private checkFinished(): void {
    if (this.stoppedAt === null || this.inFlight > 0 || this.pendingRetries > 0 || this.resolveDone === null) return;
    const resolve = this.resolveDone;
    this.resolveDone = null;
    resolve();
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
    return timer;
  }
}
