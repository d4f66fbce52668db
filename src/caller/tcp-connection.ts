/**
 * One caller connection that speaks the RPC protocol instead of HTTP: to the
 * TCP front (`gateway --framework tcp`), or straight to a worker (direct
 * mode, the floor under every front). Same contract as connection.ts: t0
 * just before the call frame goes to the socket, t6 once its reply frame is
 * decoded, every request ends exactly once, and `bytes` counts what arrived.
 */
import { connect, type Socket } from 'node:net';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { MAX_FRAME_BYTES, PROTOCOL_VERSION, type ReplyMessage } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import { CallerLink, type DoneCallback, type OpenOutcome, type Target } from './connection.js';

/** The call every request of a run makes. */
export interface TcpCall {
  fn: string;
  args: Record<string, unknown>;
  /** Presented in the hello, for a worker or front that requires one. */
  secret?: string;
  /** The HTTP status an error code stands for, so that records read alike. */
  statusOf: (code: string) => number;
  /**
   * Direct mode (the peer is a worker, not the TCP front): called with each
   * reply, so that the run can record the call as a front of its own that
   * takes no time (see run-caller.ts).
   */
  onDirectReply?: (id: string, t0: bigint, t6: bigint, status: number, reply: ReplyMessage, worker: string) => void;
}

export class TcpConnection extends CallerLink {
  private decoder = new FrameDecoder(MAX_FRAME_BYTES);
  private cid = 0;
  private bytes = 0;
  /** A worker announces its functions in the welcome; the TCP front does not. */
  private direct = false;

  constructor(
    target: Target,
    private readonly call: TcpCall,
    onDone: DoneCallback,
  ) {
    super(target, onDone);
  }

  protected get received(): number {
    return this.bytes;
  }

  /** Connects and says hello ahead of the run: ready once welcomed. */
  open(): Promise<OpenOutcome> {
    return this.whenOpen(this.ensureSocket(), 'welcome');
  }

  send(id: string): bigint {
    const socket = this.ensureSocket();
    this.busy = true;
    this.bytes = 0;
    this.cid = (this.cid + 1) >>> 0;
    const frame = encodeMessage({ t: 'call', cid: this.cid, rid: id, fn: this.call.fn, args: this.call.args });
    const t0 = now();
    this.t0 = t0;
    socket.write(frame);
    return t0;
  }

  private ensureSocket(): Socket {
    if (this.socket !== null && !this.socket.destroyed) return this.socket;
    const socket = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    this.decoder = new FrameDecoder(MAX_FRAME_BYTES);
    // Written at once: the peer reads the hello before any call behind it.
    socket.write(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, ...(this.call.secret ? { secret: this.call.secret } : {}) }));
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      this.bytes += chunk.length;
      try {
        const bodies = this.decoder.push(chunk);
        // t6 when the reply's last byte is in, before its body is decoded: as the HTTP client, which never parses a body.
        const t6 = now();
        for (const body of bodies) this.receive(socket, body, t6);
      } catch {
        this.close();
        if (this.busy) this.finish(0, 'parse_error');
      }
    });
    this.failOnError(socket);
    return socket;
  }

  private receive(socket: Socket, body: Buffer, t6: bigint): void {
    const message = decodeMessage(body);
    if (message.t === 'welcome') {
      this.direct = Array.isArray(message.fns);
      socket.emit('welcome');
      return;
    }
    if (message.t === 'error') {
      // The peer refused the connection (a wrong secret, a bad frame): it closes.
      this.close();
      if (this.busy) this.finish(0, message.code);
      return;
    }
    if (message.t !== 'reply' || !this.busy || message.cid !== this.cid) throw new Error('unexpected frame');
    const status = message.err ? this.call.statusOf(message.err.code) : 200;
    if (this.direct) this.call.onDirectReply?.(this.id, this.t0, t6, status, message, `${this.target.host}:${this.target.port}`);
    this.finish(status, null, t6);
  }
}
