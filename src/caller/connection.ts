/**
 * One keep-alive HTTP/1.1 connection of the caller, one request at a time.
 *
 * Why our own client and not autocannon's. Read in node_modules/autocannon/lib
 * (autocannon 9.0.0); what we need and it cannot give:
 * - Per-request stamps and records. httpClient.js:98 emits 'response' with
 *   (status, bytes, duration, rate) only: a float-ms duration from
 *   process.hrtime() taken at insertRequest (pipelinedRequestsQueue.js:24),
 *   no absolute t0/t6 and nothing naming the request.
 * - Failures tied to the request they killed. A connection error emits
 *   'connError' (httpClient.js:138-141) and a timeout emits 'timeout' from a
 *   per-client timer (httpClient.js:55-64), neither with a request. Worse,
 *   after a connection error _connect() sends a new request without clearing
 *   the queue or the parser, so the failed request stays at the head of
 *   pipelinedRequests and the NEXT response is timed from the failed
 *   request's start (terminateRequest shifts the oldest entry).
 * - Sub-millisecond latency. run.js:244-246 records those float ms into the
 *   WebAssembly histogram of histUtil.js:7-14 (lowestDiscernibleValue 1),
 *   which truncates to whole ms: 0.3 ms is recorded as 0, 1.7 ms as 1,
 *   20.9 ms as 20 (so its p50 at 20 ms sleep reads 20, never 20.9).
 * - An even open loop. --overallRate is split per connection (run.js:201-203)
 *   into a quota that a setInterval refills once a second
 *   (httpClient.js:67-73, checked at :158): R requests go out as fast as the
 *   server answers at the top of each second, then nothing.
 * - Coordinated omission corrected from the schedule. run.js:244 calls
 *   recordValueWithExpectedInterval(ms, Math.ceil(1 / rate)) with rate in
 *   requests per second per connection, so the expected interval is always
 *   1 ms (not 1000/rate ms) and the back-filled samples are invented, not
 *   measured.
 * So this client stamps t0 immediately before the request bytes are handed to
 * the socket and t6 immediately after the parser has consumed the last byte
 * of the response, and ends every request exactly once: with its status, or
 * with an error class and the moment it failed. autocannon stays in the
 * caller benchmark (src/bench/caller-bench.ts) as a reference point.
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

  /** Ends the request in flight exactly once; t6 defaults to now (the moment of failure). */
  private finish(status: number, error: string | null, t6: bigint = now()): void {
    this.busy = false;
    this.onDone(this, status, this.parser.bytes, error, t6);
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
    const t6 = now();
    if (!this.parser.keepAlive) {
      // The server will close it; the next request opens a fresh one.
      this.socket = null;
      socket.destroy();
    }
    this.finish(this.parser.status, null, t6);
  }
}
