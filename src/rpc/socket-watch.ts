import type { Socket } from 'node:net';

/**
 * Send and read timeouts for every socket of a server, from one timer. A peer
 * that stops taking our bytes (a slow or stalled reader: its answers would sit
 * in our memory for as long as it likes) is cut off after `sendTimeoutMs`
 * without progress, as nginx's send_timeout does; a frame begun and not
 * finished within `readTimeoutMs` of its first byte cuts the peer off too.
 * Each check is a few integer compares per socket, once per tick: nothing on
 * the path of a request.
 */
export interface SocketWatchOptions {
  sendTimeoutMs: number;
  /** Only for peers that say when a frame is in progress (reading()). */
  readTimeoutMs?: number;
  onSendStall(socket: Socket): void;
  onReadStall?(socket: Socket): void;
}

interface Entry {
  /** Bytes the kernel had taken at the last tick. */
  sent: number;
  /** How long the socket has had bytes waiting without the kernel taking any. */
  stalledMs: number;
  /** The tick its frame in progress began at; -1: none. */
  readSince: number;
}

export class SocketWatch {
  private readonly entries = new Map<Socket, Entry>();
  private readonly intervalMs: number;
  private readonly timer: NodeJS.Timeout;
  private tick = 0;

  constructor(private readonly options: SocketWatchOptions) {
    const shortest = Math.min(options.sendTimeoutMs, options.readTimeoutMs ?? Infinity);
    // A quarter of the shortest timeout, so that one is never overshot by more than that.
    this.intervalMs = Math.max(25, Math.min(1000, Math.floor(shortest / 4)));
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  add(socket: Socket): void {
    this.entries.set(socket, { sent: 0, stalledMs: 0, readSince: -1 });
    socket.once('close', () => this.entries.delete(socket));
  }

  /** Whether a frame is in progress on `socket`; `fresh`: a new one began since the last call. */
  reading(socket: Socket, inProgress: boolean, fresh: boolean): void {
    const e = this.entries.get(socket);
    if (!e) return;
    if (!inProgress) e.readSince = -1;
    else if (fresh || e.readSince === -1) e.readSince = this.tick;
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
  }

  private check(): void {
    this.tick++;
    const { sendTimeoutMs, readTimeoutMs } = this.options;
    for (const [socket, e] of this.entries) {
      if (socket.destroyed) continue;
      const waiting = socket.writableLength;
      const sent = socket.bytesWritten - waiting;
      if (waiting > 0 && sent === e.sent) {
        e.stalledMs += this.intervalMs;
        if (e.stalledMs >= sendTimeoutMs) {
          this.entries.delete(socket);
          this.options.onSendStall(socket);
          continue;
        }
      } else {
        e.stalledMs = 0;
      }
      e.sent = sent;
      if (readTimeoutMs !== undefined && e.readSince !== -1 && (this.tick - e.readSince) * this.intervalMs >= readTimeoutMs) {
        this.entries.delete(socket);
        this.options.onReadStall?.(socket);
      }
    }
  }
}
