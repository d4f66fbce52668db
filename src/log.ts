import { pino, type Logger } from 'pino';

/**
 * Operational logs (startup, errors) go to stderr through pino, apart from the
 * per-request records. Level from FAASBENCH_LOG_LEVEL (default info).
 */
export function createLogger(role: string): Logger {
  return pino(
    { name: `faasbench-${role}`, level: process.env.FAASBENCH_LOG_LEVEL ?? 'info' },
    pino.destination({ dest: 2, sync: true }),
  );
}

export type { Logger };

/** Distinct (code, peer) pairs kept per interval; the rest are counted together, so memory stays bounded. */
const MAX_KEYS = 100;

/**
 * Warnings that an attacker or a dead peer can repeat thousands of times a
 * second (refused connections, connection errors), logged as one line per
 * interval: the first occurrence in a quiet period at once, the rest as a
 * summary of counts by code and peer at the end of the interval.
 */
export class SummaryLog {
  private counts = new Map<string, { code: string; peer: string; count: number }>();
  private other = 0;
  private total = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly msg: string,
    private readonly intervalMs = 10_000,
  ) {}

  note(code: string, peer: string, detail?: Record<string, unknown>): void {
    if (this.timer === null) {
      // Quiet until now: say it at once, and summarise whatever follows within the interval.
      this.logger.warn({ code, peer, ...detail }, this.msg);
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
      this.timer.unref();
      return;
    }
    this.total++;
    const key = `${code} ${peer}`;
    const entry = this.counts.get(key);
    if (entry) entry.count++;
    else if (this.counts.size < MAX_KEYS) this.counts.set(key, { code, peer, count: 1 });
    else this.other++;
  }

  /** Logs what the interval counted; while events keep coming, the next interval counts too. */
  private tick(): void {
    this.timer = null;
    if (this.total === 0) return; // a quiet interval: the next event is logged at once
    this.report();
    this.timer = setTimeout(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Logs what is counted so far and stops the timer: at shutdown. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.total > 0) this.report();
  }

  private report(): void {
    const top = [...this.counts.values()].sort((a, b) => b.count - a.count);
    this.logger.warn(
      { count: this.total, by: top.map((e) => `${e.code} ${e.peer} x${e.count}`), others: this.other || undefined },
      `${this.msg}: ${this.total} more since the previous line`,
    );
    this.counts.clear();
    this.other = 0;
    this.total = 0;
  }
}
