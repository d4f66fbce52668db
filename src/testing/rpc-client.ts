/**
 * A bare RPC client for tests that must control what one socket write holds:
 * `burst()` sends many call frames in a single write, so the worker reads
 * them together, and resolves with every reply.
 */
import { connect, type Socket } from 'node:net';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { PROTOCOL_VERSION, type ReplyMessage, type ResultForm } from '../rpc/protocol.js';

export interface RawRpc {
  /** `args` goes on the wire as given (null included); left out, an empty map. */
  burst(calls: { fn: string; args?: Record<string, unknown> | null; rid?: string }[], timeoutMs?: number): Promise<ReplyMessage[]>;
  /** Writes bytes as they are. */
  write(bytes: Buffer): void;
  /** Resolves when the peer closed the connection, with the `error` message it sent before, if any. */
  readonly closed: Promise<{ code: string; message: string } | null>;
  close(): void;
}

/** `results`: the form replies carry results in; values unless told (what most tests read). */
export async function rawRpc(address: string, secret?: string, results: ResultForm = 'value'): Promise<RawRpc> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket: Socket = connect({ host, port });
  const decoder = new FrameDecoder();
  const replies = new Map<number, (r: ReplyMessage) => void>();
  let welcomed: () => void = () => {};
  const welcome = new Promise<void>((resolve) => (welcomed = resolve));
  let refusal: { code: string; message: string } | null = null;
  const closed = new Promise<{ code: string; message: string } | null>((resolve) => socket.once('close', () => resolve(refusal)));
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) {
      const m = decodeMessage(body);
      if (m.t === 'welcome') welcomed();
      else if (m.t === 'reply') replies.get(m.cid)?.(m);
      else if (m.t === 'error') refusal = { code: m.code, message: m.message };
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, results, ...(secret ? { secret } : {}) }));
  await welcome;
  let nextCid = 1;
  return {
    burst(calls, timeoutMs = 30_000) {
      const frames: Buffer[] = [];
      const pending: Promise<ReplyMessage>[] = [];
      for (const [k, c] of calls.entries()) {
        const cid = nextCid++;
        pending.push(new Promise((resolve) => replies.set(cid, resolve)));
        const args = 'args' in c ? c.args : {};
        frames.push(encodeMessage({ t: 'call', cid, rid: c.rid ?? `burst-${cid}-${k}`, fn: c.fn, args: args as Record<string, unknown> }));
      }
      socket.write(Buffer.concat(frames));
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply to every call of the burst within ${timeoutMs} ms`)), timeoutMs);
      });
      return Promise.race([Promise.all(pending), limit]).finally(() => clearTimeout(timer));
    },
    write: (bytes) => socket.write(bytes),
    closed,
    close: () => socket.destroy(),
  };
}

/** The most function runs (t3_start…t3_end) of these replies that overlapped at any moment. */
export function mostAtOnce(replies: readonly ReplyMessage[]): number {
  const events = replies.flatMap((r) => [
    { at: r.t3_start, d: 1 },
    { at: r.t3_end, d: -1 },
  ]);
  events.sort((a, b) => (a.at === b.at ? a.d - b.d : a.at < b.at ? -1 : 1));
  let running = 0;
  let most = 0;
  for (const e of events) most = Math.max(most, (running += e.d));
  return most;
}

/**
 * A closed loop over one connection: `inFlight` calls outstanding, each reply
 * answered with the next call, until `total` calls were answered. Resolves with
 * the replies in the order the calls were sent.
 */
export async function closedLoop(
  address: string,
  call: { fn: string; args?: Record<string, unknown> },
  inFlight: number,
  total: number,
  timeoutMs = 120_000,
): Promise<ReplyMessage[]> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket: Socket = connect({ host, port, noDelay: true });
  const decoder = new FrameDecoder();
  const replies: ReplyMessage[] = new Array<ReplyMessage>(total);
  let sent = 0;
  let answered = 0;
  const send = () => {
    const cid = ++sent;
    socket.write(encodeMessage({ t: 'call', cid, rid: `loop-${cid}`, fn: call.fn, args: call.args ?? {} }));
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<ReplyMessage[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${answered} of ${total} calls answered within ${timeoutMs} ms`)), timeoutMs);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        for (const body of decoder.push(chunk)) {
          const m = decodeMessage(body);
          if (m.t === 'welcome') for (let i = 0; i < Math.min(inFlight, total); i++) send();
          else if (m.t === 'reply') {
            replies[m.cid - 1] = m;
            if (++answered === total) return resolve(replies);
            if (sent < total) send();
          }
        }
      });
      socket.once('connect', () => socket.write(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION })));
    });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
