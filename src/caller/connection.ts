/**
 * One keep-alive HTTP/1.1 connection of the caller, one request at a time.
 *
 * Why our own client and not autocannon's (read in node_modules/autocannon/lib):
 * - httpClient.js emits 'response' with a duration only, from process.hrtime()
 *   taken when the request was queued; there is no per-request send or receive
 *   stamp, no per-request id, and a failure (connError, timeout) is not tied to
 *   the request it killed, so "one record per request, failures included" is
 *   not possible on top of it.
 * - run.js records latencies in whole milliseconds (histUtil.js:
 *   lowestDiscernibleValue 1 over ms values).
 * - Its rate limit resets a per-connection counter once a second
 *   (httpClient.js rateInterval), so a rate R is sent as a burst at the top of
 *   each second; and its coordinated-omission correction calls
 *   recordValueWithExpectedInterval(ms, Math.ceil(1 / rate)), where 1/rate is
 *   in seconds, so the interval is always 1 ms and the back-filled samples are
 *   invented rather than measured.
 * This client stamps t0 when the request is written and t6 when the parser
 * sees the end of the response, and reports every failure with its class.
 */
import { connect, type Socket } from 'node:net';
import { now } from '../trace/clock.js';
import { ParseError, ResponseParser } from './response-parser.js';

export interface Target {
  host: string;
  port: number;
}

/** Called once per request: a status > 0 and error null, or status 0 and an error class. */
export type DoneCallback = (conn: Connection, status: number, bytes: number, error: string | null, t6: bigint) => void;

export class Connection {
  /** The request in flight: set by the load loop, read back in the done callback. */
  id = '';
  t0 = 0n;
  intended: bigint | null = null;
  warmup = false;
  busy = false;
  private socket: Socket | null = null;
  private readonly parser = new ResponseParser();

  constructor(
    private readonly target: Target,
    private readonly expectBody: boolean,
    private readonly onDone: DoneCallback,
  ) {}

  /** Opens the socket ahead of the run, so the first requests do not pay the handshake. Never rejects. */
  open(): Promise<void> {
    const socket = this.ensureSocket();
    return new Promise((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
  }

  /** Hands one request to the socket and returns t0. */
  send(request: string, body: Buffer | null): bigint {
    const socket = this.ensureSocket();
    this.parser.reset(this.expectBody);
    this.busy = true;
    const t0 = now();
    this.t0 = t0;
    if (body === null) socket.write(request, 'latin1');
    else {
      socket.cork();
      socket.write(request, 'latin1');
      socket.write(body);
      socket.uncork();
    }
    return t0;
  }

  /** Fails the request in flight (timeout, abort) and drops the socket, whose answer can no longer be trusted. */
  fail(error: string): void {
    if (!this.busy) return;
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
    this.finish(0, error);
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }

  private finish(status: number, error: string | null): void {
    const t6 = now();
    this.busy = false;
    this.onDone(this, status, this.parser.bytes, error, t6);
  }

  private ensureSocket(): Socket {
    if (this.socket !== null && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    // Events of a socket we have already replaced are ignored.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(socket, chunk);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.busy) this.finish(0, err.code ? err.code.toLowerCase() : 'socket_error');
    });
    socket.on('end', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      socket.destroy();
      if (!this.busy) return;
      if (this.parser.endOfStream()) this.finish(this.parser.status, null);
      else this.finish(0, 'socket_closed');
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.busy) this.finish(0, 'socket_closed');
    });
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    let complete: boolean;
    try {
      complete = this.parser.execute(chunk);
    } catch (err) {
      this.socket = null;
      socket.destroy();
      if (this.busy) this.finish(0, err instanceof ParseError ? 'parse_error' : 'socket_error');
      return;
    }
    if (!complete) return;
    if (!this.parser.keepAlive) {
      // The server will close it; the next request opens a fresh one.
      this.socket = null;
      socket.destroy();
    }
    this.finish(this.parser.status, null);
  }
}
