/**
 * The set of workers a gateway calls, as it changes while it serves: workers
 * added and drained (fleet-sources.ts feeds it), active health checks over
 * the RPC link (ping/pong, docs/rpc-protocol.md), and passive outlier
 * ejection after consecutive failures. It decides which connections the
 * balancer may pick (`admitted`); the connections themselves are the
 * client's (client.ts), made through `connect`.
 *
 * Anchors: Envoy's active health checking (interval, unhealthy and healthy
 * thresholds) and outlier detection (consecutive_gateway_failure 5,
 * base_ejection_time 30 s times the ejections so far, max_ejection_time
 * 300 s, max_ejection_percent 10 % but at least one host).
 */

/** One connection to a worker, as the fleet sees it. */
export interface FleetLink {
  readonly address: string;
  /** The link is up (its welcome came) and admitted. */
  readonly isReady: boolean;
  /** The link is up, admitted or not. */
  readonly connected: boolean;
  readonly inFlight: number;
  /** Set by the fleet: whether the balancer may pick this link. */
  admitted: boolean;
  /** Sends a ping; false when the link cannot (down, or a version-1 worker). */
  ping(n: number): boolean;
  /** Closes for good: no reconnect; calls still in flight fail. */
  close(): void;
}

export interface HealthOptions {
  /** A ping this often on every link; an unanswered one counts as a miss at the next. 0: no pings. */
  intervalMs: number;
  /** Misses in a row that take a link out. */
  unhealthyThreshold: number;
  /** Pongs in a row that bring it back. */
  healthyThreshold: number;
}

export interface EjectionOptions {
  /** Consecutive failed calls that eject a worker; 0: no ejection. */
  consecutive: number;
  /** A call answered later than this (t4 − t2) counts as failed; 0: only link failures and timeouts. */
  slowMs: number;
  /** Ejection time = this × the worker's ejections so far, at most maxMs. */
  baseMs: number;
  maxMs: number;
  /** At most this share of the workers is ejected at once (but always one may be). */
  maxPercent: number;
}

export const DEFAULT_HEALTH: HealthOptions = { intervalMs: 1000, unhealthyThreshold: 3, healthyThreshold: 2 };
export const DEFAULT_EJECTION: EjectionOptions = { consecutive: 5, slowMs: 0, baseMs: 30_000, maxMs: 300_000, maxPercent: 10 };

export const FLEET_EVENTS = ['added', 'connected', 'lost', 'unhealthy', 'healthy', 'ejected', 'readmitted', 'draining', 'removed'] as const;
export type FleetEventKind = (typeof FLEET_EVENTS)[number];

export interface FleetEvent {
  event: FleetEventKind;
  worker: string;
  /** The workers that take calls after the event. */
  active: string[];
  detail?: string;
}

/** How a member stands, for the gauges. */
export type MemberState = 'active' | 'connecting' | 'unhealthy' | 'ejected' | 'draining';

/** What a call's outcome says of its worker, for outlier ejection. */
export type Verdict = 'ok' | 'failed' | 'neutral';

interface LinkHealth {
  /** The n of the ping awaiting its pong; 0: none. */
  awaiting: number;
  misses: number;
  passes: number;
  healthy: boolean;
  /** Past the miss threshold but kept in: no other link took calls (logged once). */
  kept: boolean;
}

class Member {
  draining = false;
  ejected = false;
  ejections = 0;
  admittedAt = 0;
  failures = 0;
  ejectTimer: NodeJS.Timeout | null = null;
  up = false;
  readonly health = new Map<FleetLink, LinkHealth>();
  constructor(
    readonly address: string,
    readonly links: FleetLink[],
  ) {
    for (const l of links) health(this, l);
  }

  get inFlight(): number {
    let n = 0;
    for (const l of this.links) n += l.inFlight;
    return n;
  }

  get state(): MemberState {
    if (this.draining) return 'draining';
    if (this.ejected) return 'ejected';
    if (!this.links.some((l) => l.connected)) return 'connecting';
    return this.links.some((l) => l.connected && this.health.get(l)!.healthy) ? 'active' : 'unhealthy';
  }
}

function health(m: Member, l: FleetLink): LinkHealth {
  let h = m.health.get(l);
  if (!h) m.health.set(l, (h = { awaiting: 0, misses: 0, passes: 0, healthy: true, kept: false }));
  return h;
}

export interface FleetOptions {
  health?: HealthOptions;
  ejection?: EjectionOptions;
  /** Makes the connections of one worker. */
  connect: (address: string) => FleetLink[];
  onEvent?: (e: FleetEvent) => void;
  /** For the tests: the clock of ejection times. */
  nowMs?: () => number;
}

export class Fleet {
  private readonly members = new Map<string, Member>();
  private readonly byLink = new Map<FleetLink, Member>();
  /** Every link of every member, draining ones too: the balancer's candidates (it skips those not admitted). */
  links: FleetLink[] = [];
  private readonly health: HealthOptions;
  private readonly ejection: EjectionOptions;
  private readonly ticker: NodeJS.Timeout | null;
  private readonly nowMs: () => number;
  private seq = 0;
  private closed = false;

  constructor(private readonly options: FleetOptions) {
    this.health = options.health ?? DEFAULT_HEALTH;
    this.ejection = options.ejection ?? DEFAULT_EJECTION;
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.ticker = this.health.intervalMs > 0 ? setInterval(() => this.check(), this.health.intervalMs) : null;
    this.ticker?.unref();
  }

  /** Members not draining: the workers the gateway has (read for every record, so kept counted). */
  size = 0;

  private recount(): void {
    let n = 0;
    for (const m of this.members.values()) if (!m.draining) n++;
    this.size = n;
  }

  /** Addresses that take calls now. */
  get active(): string[] {
    return [...this.members.values()].filter((m) => m.state === 'active').map((m) => m.address);
  }

  /** Members by state, for the gauges. */
  counts(): Record<MemberState, number> {
    const c: Record<MemberState, number> = { active: 0, connecting: 0, unhealthy: 0, ejected: 0, draining: 0 };
    for (const m of this.members.values()) c[m.state]++;
    return c;
  }

  stateOf(address: string): MemberState | null {
    return this.members.get(address)?.state ?? null;
  }

  /**
   * The workers wanted from now on: new ones are added, ones no longer
   * listed drain (no new calls; removed once their calls in flight are
   * answered), a draining one listed again takes calls again.
   */
  set(addresses: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(addresses);
    for (const address of wanted) {
      const m = this.members.get(address);
      if (!m) {
        const member = new Member(address, this.options.connect(address));
        this.members.set(address, member);
        for (const l of member.links) this.byLink.set(l, member);
        this.relink();
        this.admit(member);
        this.emit('added', member);
      } else if (m.draining) {
        m.draining = false;
        this.admit(m);
        this.emit('added', m, 'listed again while draining');
      }
    }
    for (const m of this.members.values()) {
      if (wanted.has(m.address) || m.draining) continue;
      m.draining = true;
      this.admit(m);
      this.emit('draining', m, `${m.inFlight} calls in flight`);
      this.finishDrain(m);
    }
    this.recount();
  }

  /** A link came up (true) or went down (false). */
  linkState(link: FleetLink, up: boolean): void {
    const m = this.byLink.get(link);
    if (!m) return;
    const h = health(m, link);
    // A fresh connection answered its hello: healthy until its pings say otherwise.
    Object.assign(h, { awaiting: 0, misses: 0, passes: 0, healthy: true, kept: false });
    const wasUp = m.up;
    m.up = m.links.some((l) => l.connected);
    this.admit(m);
    if (m.up !== wasUp) this.emit(m.up ? 'connected' : 'lost', m);
    if (!up) this.finishDrain(m);
  }

  /** A pong on `link`. */
  pong(link: FleetLink, n: number): void {
    const m = this.byLink.get(link);
    if (!m) return;
    const h = health(m, link);
    if (n !== h.awaiting) return;
    h.awaiting = 0;
    h.misses = 0;
    h.kept = false;
    if (h.healthy) return;
    if (++h.passes >= this.health.healthyThreshold) {
      h.healthy = true;
      h.passes = 0;
      this.admit(m);
      this.emit('healthy', m, `${this.health.healthyThreshold} pongs in a row`);
    }
  }

  /** A call on `link` ended so; a draining worker leaves once its last call is answered. */
  settled(link: FleetLink, verdict: Verdict): void {
    const m = this.byLink.get(link);
    if (!m) return;
    if (verdict === 'ok') m.failures = 0;
    else if (verdict === 'failed' && ++m.failures >= this.ejection.consecutive && this.ejection.consecutive > 0) this.eject(m);
    if (m.draining) this.finishDrain(m);
  }

  close(): void {
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const m of this.members.values()) {
      if (m.ejectTimer) clearTimeout(m.ejectTimer);
      for (const l of m.links) l.close();
    }
    this.members.clear();
    this.byLink.clear();
    this.links = [];
    this.size = 0;
  }

  private eject(m: Member): void {
    if (m.ejected || m.draining) return;
    const members = this.size;
    let ejected = 0;
    for (const x of this.members.values()) if (x.ejected && !x.draining) ejected++;
    const allowed = Math.max(1, Math.floor((members * this.ejection.maxPercent) / 100));
    // Never the last worker that takes calls: a fleet with none fails every call instead of a share.
    const othersActive = [...this.members.values()].some((x) => x !== m && x.state === 'active');
    if (ejected >= allowed || !othersActive) return;
    const t = this.nowMs();
    // Envoy's multiplier: one ejection forgiven per base time spent admitted since the last.
    if (m.ejections > 0) m.ejections = Math.max(0, m.ejections - Math.floor((t - m.admittedAt) / this.ejection.baseMs));
    m.ejections++;
    const forMs = Math.min(this.ejection.baseMs * m.ejections, Math.max(this.ejection.maxMs, this.ejection.baseMs));
    m.ejected = true;
    const failures = m.failures;
    m.failures = 0;
    this.admit(m);
    this.emit('ejected', m, `${failures} failed calls in a row; for ${forMs} ms`);
    m.ejectTimer = setTimeout(() => {
      m.ejectTimer = null;
      if (!this.members.has(m.address) || !m.ejected) return;
      m.ejected = false;
      m.admittedAt = this.nowMs();
      this.admit(m);
      this.emit('readmitted', m);
    }, forMs);
    m.ejectTimer.unref();
  }

  /** Each health interval: count the pings still unanswered as misses, and ping again. */
  private check(): void {
    for (const m of this.members.values()) {
      for (const l of m.links) {
        const h = health(m, l);
        if (!l.connected) continue;
        if (h.awaiting !== 0) {
          h.passes = 0;
          if (++h.misses >= this.health.unhealthyThreshold && h.healthy) {
            // Never the last link that takes calls (as with ejection): a worker too busy to answer
            // its pings in time still answers calls, while a fleet with none fails every call.
            if (!this.links.some((x) => x !== l && x.connected && x.admitted)) {
              if (!h.kept) this.emit('unhealthy', m, `${h.misses} pings unanswered; kept taking calls: no other worker does`);
              h.kept = true;
            } else {
              h.healthy = false;
              h.kept = false;
              this.admit(m);
              this.emit('unhealthy', m, `${h.misses} pings unanswered`);
            }
          }
        }
        this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
        h.awaiting = l.ping(this.seq) ? this.seq : 0;
      }
    }
  }

  private finishDrain(m: Member): void {
    if (!m.draining || m.inFlight > 0 || this.members.get(m.address) !== m) return;
    // After the settling call's own reply handler: its link closes with nothing in flight.
    queueMicrotask(() => {
      if (!m.draining || m.inFlight > 0 || this.members.get(m.address) !== m) return;
      this.members.delete(m.address);
      if (m.ejectTimer) clearTimeout(m.ejectTimer);
      for (const l of m.links) {
        this.byLink.delete(l);
        l.close();
      }
      this.relink();
      this.emit('removed', m);
    });
  }

  private admit(m: Member): void {
    for (const l of m.links) l.admitted = !m.draining && !m.ejected && health(m, l).healthy;
  }

  private relink(): void {
    this.links = [...this.members.values()].flatMap((m) => m.links);
  }

  private emit(event: FleetEventKind, m: Member, detail?: string): void {
    this.options.onEvent?.({ event, worker: m.address, active: this.active, ...(detail === undefined ? {} : { detail }) });
  }
}
