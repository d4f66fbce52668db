/**
 * What one HTTP client can make the gateway hold, the same in front of all
 * five frameworks: requests in flight on its connection (pipelined) and in
 * the whole gateway, each beyond its bound answered 503 `overloaded` before
 * any framework or worker sees it; answers it does not take (no byte read for
 * `sendTimeoutMs`: its connection is closed); and the requests it left before
 * their answer, handed to `onAbandoned` to be recorded and cancelled.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SocketWatch } from '../rpc/socket-watch.js';

export interface AdmissionLimits {
  maxInflight: number;
  maxInflightPerConnection: number;
  sendTimeoutMs: number;
}

/** Why an answer never reached its client: it left (`cancelled`), or took none of it (`send_timeout`). */
export type Abandoned = 'cancelled' | 'send_timeout';

export class Admission {
  private inflight = 0;
  /** Per connection: the requests admitted and not yet answered in full. */
  private readonly open = new Map<Socket, Set<ServerResponse>>();
  private readonly cutOff = new WeakSet<Socket>();
  private readonly watch: SocketWatch;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly onAbandoned: (res: ServerResponse, why: Abandoned) => void,
  ) {
    this.watch = new SocketWatch({
      sendTimeoutMs: limits.sendTimeoutMs,
      onSendStall: (socket) => {
        this.cutOff.add(socket);
        socket.destroy();
      },
    });
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** A new connection. */
  connection(socket: Socket): void {
    this.open.set(socket, new Set());
    this.watch.add(socket);
    socket.once('close', () => this.closed(socket));
  }

  /** Admits a request (null), or says why not. (req.socket: a pipelined answer has no socket of its own until its turn.) */
  admit(req: IncomingMessage, res: ServerResponse): string | null {
    const mine = this.open.get(req.socket);
    if (!mine) return null; // not a connection this gateway accepted (a test's injected request)
    if (mine.size >= this.limits.maxInflightPerConnection) {
      return `this connection already has ${this.limits.maxInflightPerConnection} requests in flight, the gateway's limit (--max-inflight-per-connection); try again later`;
    }
    if (this.inflight >= this.limits.maxInflight) {
      return `the gateway already has ${this.limits.maxInflight} requests in flight, its limit (--max-inflight); try again later`;
    }
    mine.add(res);
    this.inflight++;
    return null;
  }

  /**
   * An answer went out whole (node's 'finish'), on `socket`; or seemed to:
   * node also finishes an answer whose last write was still pending when its
   * socket was cut off, so that one says `send_timeout`.
   */
  finished(res: ServerResponse, socket: Socket): Abandoned | null {
    if (this.open.get(socket)?.delete(res)) this.inflight--;
    return this.cutOff.has(socket) ? 'send_timeout' : null;
  }

  close(): void {
    this.watch.close();
  }

  private closed(socket: Socket): void {
    const mine = this.open.get(socket);
    this.open.delete(socket);
    if (!mine) return;
    const why: Abandoned = this.cutOff.has(socket) ? 'send_timeout' : 'cancelled';
    for (const res of mine) {
      this.inflight--;
      // writableFinished: 'finish' is on its way (the whole answer went out), not abandoned.
      if (!res.writableFinished) this.onAbandoned(res, why);
    }
  }
}
