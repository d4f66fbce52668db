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

/** On each connection: its requests admitted and not yet answered in full, and whether it was cut off for not reading. */
const OPEN = Symbol('faasbench.open');
const CUT_OFF = Symbol('faasbench.cutOff');
type Watched = Socket & { [OPEN]?: Set<ServerResponse>; [CUT_OFF]?: boolean };

export class Admission {
  private inflight = 0;
  /** The connections open, each with its requests (also on the socket itself: a property read per request, not a Map lookup). */
  private readonly open = new Map<Socket, Set<ServerResponse>>();
  private readonly watch: SocketWatch;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly onAbandoned: (res: ServerResponse, why: Abandoned) => void,
  ) {
    this.watch = new SocketWatch({
      sendTimeoutMs: limits.sendTimeoutMs,
      onSendStall: (socket) => {
        (socket as Watched)[CUT_OFF] = true;
        socket.destroy();
      },
    });
  }

  get inFlight(): number {
    return this.inflight;
  }

  /** A new connection. */
  connection(socket: Socket): void {
    const mine = new Set<ServerResponse>();
    this.open.set(socket, mine);
    (socket as Watched)[OPEN] = mine;
    this.watch.add(socket);
    socket.once('close', () => this.closed(socket));
  }

  /** Admits a request (null), or says why not. (req.socket: a pipelined answer has no socket of its own until its turn.) */
  admit(req: IncomingMessage, res: ServerResponse): string | null {
    const mine = (req.socket as Watched)[OPEN];
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
    const w = socket as Watched;
    if (w[OPEN]?.delete(res)) this.inflight--;
    return w[CUT_OFF] === true ? 'send_timeout' : null;
  }

  close(): void {
    this.watch.close();
  }

  private closed(socket: Socket): void {
    const mine = this.open.get(socket);
    this.open.delete(socket);
    if (!mine) return;
    // Answers that finish after this are not counted again.
    (socket as Watched)[OPEN] = undefined;
    const why: Abandoned = (socket as Watched)[CUT_OFF] === true ? 'send_timeout' : 'cancelled';
    for (const res of mine) {
      this.inflight--;
      // writableFinished: 'finish' is on its way (the whole answer went out), not abandoned.
      if (!res.writableFinished) this.onAbandoned(res, why);
    }
  }
}
