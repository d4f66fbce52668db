/**
 * One keep-alive HTTP/1.1 connection of the caller, one request at a time.
 *
 * Our own client, not autocannon's: we need a t0/t6 stamp and a record for
 * every request, failures tied to the request they killed, sub-ms latency and
 * an even open loop (docs/commands.md, "Why not plain autocannon", says why).
 * t0 is stamped just before the request bytes go to the socket, t6 just after
 * the parser consumed the response's last byte; every request ends exactly once.
 */
import { connect, type Socket } from 'node:net';
import { now } from '../trace/clock.js';
import { ParseError, ResponseParser } from './response-parser.js';

/**
 * One read buffer for every connection (net's `onread`): no Buffer is
 * allocated per read and no 'data' event goes through the stream machinery,
 * which keeps the caller's CPU and GC pauses down. Sharing it is safe because
 * reads are handled synchronously and the parser copies whatever it keeps.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export interface Target {
  host: string;
  port: number;
}

/** How opening a link ended: null when it is ready, else the error class it failed with. */
export type OpenOutcome = string | null;

/** The class a socket error is recorded under: its code in lower case ("econnrefused"). */
export const errorClass = (err: NodeJS.ErrnoException): string => (err.code ? err.code.toLowerCase() : 'socket_error');

/** Called once per request: a status > 0 and error null, or status 0 and an error class. */
export type DoneCallback = (conn: CallerLink, status: number, bytes: number, error: string | null, t6: bigint) => void;

/** What the load loop sets and reads on a connection, HTTP (below) or RPC (tcp-connection.ts), and how a request ends. */
export abstract class CallerLink {
  /** The request in flight: set by the load loop, read back in the done callback. */
  id = '';
  /** The W3C trace id the request was sent with, or null. */
  traceId: string | null = null;
  t0 = 0n;
  intended: bigint | null = null;
  warmup = false;
  busy = false;
  protected socket: Socket | null = null;

  constructor(
    protected readonly target: Target,
    private readonly onDone: DoneCallback,
  ) {}

  /** Bytes of the response to the request in flight, as received. */
  protected abstract get received(): number;

  /** Opens the link ahead of the run, so the first requests do not pay the handshake. */
  abstract open(): Promise<OpenOutcome>;

  /** Null once `socket` emits `ready`; the error class (econnrefused, ...) if it closes first. Never rejects. */
  protected whenOpen(socket: Socket, ready: string): Promise<OpenOutcome> {
    return new Promise((resolve) => {
      let error = 'socket_closed';
      socket.once(ready, () => resolve(null));
      socket.once('error', (err: NodeJS.ErrnoException) => (error = errorClass(err)));
      socket.once('close', () => resolve(error));
    });
  }

  /** A socket error or close ends the request in flight with its class; events of a socket already replaced are ignored. */
  protected failOnError(socket: Socket): void {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.busy) this.finish(0, errorClass(err));
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.busy) this.finish(0, 'socket_closed');
    });
  }

  /** Fails the request in flight (timeout, abort) and drops the socket, whose answer can no longer be trusted. */
  fail(error: string): void {
    if (!this.busy) return;
    this.close();
    this.finish(0, error);
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.destroy();
  }

  /** Ends the request in flight exactly once; t6 defaults to now (the moment of failure). */
  protected finish(status: number, error: string | null, t6: bigint = now()): void {
    this.busy = false;
    this.onDone(this, status, this.received, error, t6);
  }
}

export class Connection extends CallerLink {
  /** The request head up to the id, for this connection's server: set by the load loop. */
  head = '';
  private readonly parser = new ResponseParser();

  constructor(
    target: Target,
    private readonly expectBody: boolean,
    onDone: DoneCallback,
  ) {
    super(target, onDone);
  }

  protected get received(): number {
    return this.parser.bytes;
  }

  open(): Promise<OpenOutcome> {
    return this.whenOpen(this.ensureSocket(), 'connect');
  }

  /**
   * Hands one request to the socket and returns t0, taken just before the
   * write. Sockets are opened before the run; only after the server closed
   * one (or a failure destroyed it) does a request go out on a new socket,
   * and then its t0..t6 includes the TCP handshake, as the user would see it.
   */
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

  private ensureSocket(): Socket {
    if (this.socket !== null && !this.socket.destroyed) return this.socket;
    const socket: Socket = connect({
      host: this.target.host,
      port: this.target.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        // Reads of a socket we have already replaced are ignored (as are its events below).
        callback: (nread: number, buf: Uint8Array): boolean => {
          if (this.socket === socket) this.onData(socket, (buf as Buffer).subarray(0, nread));
          return true; // false would pause the socket
        },
      },
    });
    this.socket = socket;
    this.failOnError(socket);
    socket.on('end', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      socket.destroy();
      if (!this.busy) return;
      if (this.parser.endOfStream()) this.finish(this.parser.status, null);
      else this.finish(0, 'socket_closed');
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
    const t6 = now();
    if (!this.parser.keepAlive) {
      // The server will close it; the next request opens a fresh one.
      this.socket = null;
      socket.destroy();
    }
    this.finish(this.parser.status, null, t6);
  }
}
