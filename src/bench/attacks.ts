/**
 * The attacks of the attack soak (issues 18 and 30), each a loop bounded in
 * what it holds at once, running until its signal aborts, and tallying what
 * it was answered. Targets are the processes the soak itself started: the
 * HTTP gateway, the TCP front and the worker (with its secret).
 */
import { setMaxListeners } from 'node:events';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';

export interface AttackTally {
  /** Answers by HTTP status and error code, e.g. "400 bad_input"; "closed" when the gateway closed without one. */
  outcomes: Record<string, number>;
  /** What the attack holds at most at once. */
  bound: string;
}

/** What the soak started: the HTTP gateway's URL, the TCP front's and the worker's host:port, their secret. */
export interface Targets {
  gateway: string;
  front: string;
  worker: string;
  secret: string;
}

type Attack = (targets: Targets, signal: AbortSignal, tally: AttackTally) => Promise<void>;

/** A pause that ends early on abort; its abort listener goes with it (one per pause piled up on the shared signal). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `f` with a signal of its own that aborts with `signal`: fetch leaves its
 * listener on the signal it is given until the request is collected, and
 * thousands of requests on the one shared signal pile them up.
 */
async function withSignal<T>(signal: AbortSignal, f: (own: AbortSignal) => Promise<T>): Promise<T> {
  const own = new AbortController();
  const abort = () => own.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await f(own.signal);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** "413 payload_too_large" from "413 {...json...}". */
function answerOf(statusAndBody: string): string {
  const code = /"code":"(\w+)"/.exec(statusAndBody)?.[1];
  return statusAndBody.slice(0, 3) + (code ? ` ${code}` : '');
}

function count(tally: AttackTally, outcome: string): void {
  tally.outcomes[outcome] = (tally.outcomes[outcome] ?? 0) + 1;
}

async function post(base: string, path: string, body: Uint8Array, signal: AbortSignal, tally: AttackTally): Promise<void> {
  try {
    const answer = await withSignal(signal, async (own) => {
      const res = await fetch(base + path, { method: 'POST', body, signal: own });
      const text = res.headers.get('content-type')?.includes('json') ? await res.text() : (await res.arrayBuffer(), '');
      return `${res.status} ${text}`;
    });
    count(tally, answerOf(answer));
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    if (!signal.aborted) count(tally, `failed ${cause?.code ?? (err as Error).message}`);
  }
}

/** `parallel` requests at a time, again and again, `pauseMs` apart. */
function repeated(parallel: number, pauseMs: number, path: string, body: () => Promise<Uint8Array>): Attack {
  return async ({ gateway: base }, signal, tally) => {
    tally.bound = `${parallel} in flight`;
    const bytes = await body();
    while (!signal.aborted) {
      await Promise.all(Array.from({ length: parallel }, () => post(base, path, bytes, signal, tally)));
      await sleep(pauseMs, signal);
    }
  };
}

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#336699' } }).png({ compressionLevel: 9 }).toBuffer();

/** Raw sockets, each opened by `start`, kept at `n` open until the signal; closed ones are replaced after a pause. */
function sockets(n: number, start: (s: Socket) => void, trickle?: (s: Socket) => void): Attack {
  return async ({ gateway: base }, signal, tally) => {
    tally.bound = `${n} sockets`;
    const { hostname, port } = new URL(base);
    const open = new Set<Socket>();
    const openOne = () => {
      if (signal.aborted) return;
      const s = connect(Number(port), hostname);
      let head = '';
      open.add(s);
      s.on('data', (d: Buffer) => {
        if (head === '') head = d.toString('latin1', 0, Math.min(d.length, 400));
      });
      s.on('error', () => {});
      s.once('close', () => {
        open.delete(s);
        if (!signal.aborted) count(tally, head ? answerOf(head.slice(9)) : 'closed');
        if (!signal.aborted) setTimeout(openOne, 2000);
      });
      s.once('connect', () => start(s));
    };
    for (let i = 0; i < n; i++) openOne();
    const ticker = trickle ? setInterval(() => open.forEach((s) => !s.destroyed && trickle(s)), 1000) : null;
    if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    if (ticker) clearInterval(ticker);
    for (const s of open) s.destroy();
  };
}

const UPLOAD = 8 * 1024 * 1024 - 1;
const UPLOAD_HEAD = `POST /image?width=10 HTTP/1.1\r\nhost: x\r\ncontent-length: ${UPLOAD + 1}\r\n\r\n`;
const UPLOAD_BODY = Buffer.alloc(UPLOAD - 1000, 1); // shared by every socket; never finished within the soak

const hostPort = (address: string) => {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
};

/** Statuses and error codes of the HTTP answers in `text` ("200", "503 overloaded"). */
function httpAnswers(text: string): string[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n[\s\S]*?\r\n\r\n(\{"error":\{"code":"(\w+)")?/g)].map((m) => `${m[1]}${m[3] ? ` ${m[3]}` : ''}`);
}

/** One HTTP connection: writes `request`, reads to its close (bodies dropped as they come), tallies every answer. */
function httpOnce(base: string, request: string, signal: AbortSignal, tally: AttackTally, leaveAfterMs?: number): Promise<void> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (text += d.replace(/[a-z]{64,}/g, '')));
    s.on('error', () => {});
    const stop = () => s.destroy();
    signal.addEventListener('abort', stop, { once: true });
    s.once('connect', () => {
      s.write(request);
      if (leaveAfterMs !== undefined) setTimeout(() => (count(tally, 'left'), s.destroy()), leaveAfterMs);
    });
    s.once('close', () => {
      signal.removeEventListener('abort', stop);
      for (const a of httpAnswers(text)) count(tally, a);
      resolve();
    });
  });
}

/** An RPC connection that said hello: sends raw bytes, tallies replies by error code and a refusal by its code. */
function rpcPeer(address: string, secret: string, tally: AttackTally, onClose: () => void): { socket: Socket; send(frames: Buffer): void } {
  const { host, port } = hostPort(address);
  const socket = connect(port, host);
  const decoder = new FrameDecoder();
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    let bodies: Buffer[];
    try {
      bodies = decoder.push(chunk);
    } catch {
      return;
    }
    for (const body of bodies) {
      const m = decodeMessage(body);
      if (m.t === 'reply') count(tally, m.err ? m.err.code : 'ok');
      else if (m.t === 'error') count(tally, `closed: ${m.code}`);
    }
  });
  socket.once('close', onClose);
  socket.write(encodeMessage({ t: 'hello', v: 1, secret }));
  return { socket, send: (frames) => socket.write(frames) };
}

let cid = 0;
const call = (fn: string, args: unknown, rid = `attack-${++cid}`) => encodeMessage({ t: 'call', cid: (cid = (cid % 0xfffffff0) + 1), rid, fn, args: args as Record<string, unknown> });

/** `n` RPC connections to `target`, each sent `frames()` after its hello and reopened `pauseMs` after it closes (or after `holdMs`). */
function rpcSockets(target: 'front' | 'worker', n: number, frames: () => Buffer, options: { holdMs?: number; pauseMs?: number; read?: boolean } = {}): Attack {
  return async (targets, signal, tally) => {
    tally.bound = `${n} connections`;
    const open = new Set<Socket>();
    const openOne = () => {
      if (signal.aborted) return;
      const peer = rpcPeer(targets[target], targets.secret, tally, () => {
        open.delete(peer.socket);
        if (!signal.aborted) setTimeout(openOne, options.pauseMs ?? 500);
      });
      open.add(peer.socket);
      if (options.read === false) peer.socket.pause();
      peer.send(frames());
      if (options.holdMs !== undefined) setTimeout(() => peer.socket.destroy(), options.holdMs).unref();
    };
    for (let i = 0; i < n; i++) openOne();
    if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    for (const s of open) s.destroy();
  };
}

const PAYLOAD_8M = '/payload?bytes=8388608&format=raw';
const EIGHT_MIB = 8 * 1024 * 1024;
const FORGED = '{"role":"gateway","host":"h","id":"forged","framework":"tcp","fn":"empty","status":200,"error":null}';

/** The attacks of issue 30: what one client can make each role hold. */
function ATTACKS_30(): Record<string, Attack> {
  return {
    // 200 requests for 8 MiB pipelined in one write (finding 3): a connection's limit answers most 503.
    'pipelined payloads': async ({ gateway }, signal, tally) => {
      tally.bound = '200 pipelined on 1 connection';
      const get = `GET ${PAYLOAD_8M} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const request = get.repeat(199) + get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n');
      while (!signal.aborted) {
        await httpOnce(gateway, request, signal, tally);
        await sleep(500, signal);
      }
    },
    // Answers of 8 MiB never read (finding 7): the send timeout closes them.
    'unread answers': async ({ gateway }, signal, tally) => {
      tally.bound = '20 connections';
      const { hostname, port } = new URL(gateway);
      const open = new Set<Socket>();
      const openOne = () => {
        if (signal.aborted) return;
        const s = connect(Number(port), hostname);
        s.pause();
        s.on('error', () => {});
        open.add(s);
        s.write(`GET ${PAYLOAD_8M} HTTP/1.1\r\nHost: x\r\n\r\n`);
        count(tally, 'sent, never read');
        // Paused, it cannot see the gateway's close: given up after a while, and a new one opened.
        setTimeout(() => (s.destroy(), open.delete(s), openOne()), 45_000).unref();
      };
      for (let i = 0; i < 20; i++) openOne();
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      for (const s of open) s.destroy();
    },
    // Requests whose client leaves before the answer (finding 8): recorded, counted, cancelled at the worker.
    'abandoned sleeps': async ({ gateway }, signal, tally) => {
      tally.bound = '20 in flight';
      while (!signal.aborted) {
        await Promise.all(Array.from({ length: 20 }, () => httpOnce(gateway, 'GET /sleep?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n', signal, tally, 100)));
        await sleep(200, signal);
      }
    },
    // A new payload size per request (finding 9): label values a client chooses.
    'label spray': async ({ gateway }, signal, tally) => {
      tally.bound = '4 in flight';
      while (!signal.aborted) {
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            try {
              const status = await withSignal(signal, async (own) => {
                const res = await fetch(`${gateway}/payload?bytes=${1 + Math.floor(Math.random() * 100_000)}`, { signal: own });
                await res.arrayBuffer();
                return res.status;
              });
              count(tally, String(status));
            } catch {
              if (!signal.aborted) count(tally, 'failed');
            }
          }),
        );
      }
    },
    // 8 MiB JSON answers (finding 10): until the datapath change, each holds the gateway's loop for its JSON.stringify.
    'large json': async ({ gateway }, signal, tally) => {
      tally.bound = '2 in flight';
      const request = 'GET /payload?bytes=8388608&format=json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
      while (!signal.aborted) {
        await Promise.all([httpOnce(gateway, request, signal, tally), httpOnce(gateway, request, signal, tally)]);
        await sleep(500, signal);
      }
    },
    // Calls with nil or odd arguments and names that would forge records (findings 1, 2).
    'front odd calls': rpcSockets('front', 4, () =>
      Buffer.concat([
        call('payload', null),
        call('payload', { format: { toString: 1 } }),
        call('payload', { bytes: 10, format: `json","status":200}\n${FORGED}\n{"x":"` }),
        call(`x","status":200,"error":null}\n${FORGED}\n{"fn":"y`, {}),
      ]), { holdMs: 1000 }),
    // 40 calls of 8 MiB of JSON in one write (finding 3): the connection's limit refuses most.
    'front piled calls': rpcSockets('front', 2, () => Buffer.concat(Array.from({ length: 40 }, () => call('payload', { bytes: EIGHT_MIB, format: 'json' }))), { holdMs: 30_000 }),
    // A call frame of 32 MiB declared, 1 MiB sent, then nothing (finding 4): the frame budget and the read timeout.
    'front half frames': rpcSockets('front', 10, () => Buffer.concat([Buffer.from([0x01, 0xff, 0, 0]), Buffer.alloc(1024 * 1024, 1)]), { pauseMs: 2000 }),
    // Replies of 8 MiB never read (finding 7).
    'front unread replies': rpcSockets('front', 5, () => Buffer.concat(Array.from({ length: 8 }, () => call('payload', { bytes: EIGHT_MIB, format: 'raw' }))), { read: false, holdMs: 45_000 }),
    // Callers that leave mid-call (finding 8): cancelled at the worker.
    'front leavers': rpcSockets('front', 10, () => call('sleep', { ms: 3000 }), { holdMs: 100, pauseMs: 200 }),
    // Before any hello: a first frame of 32 MiB declared and trickled (finding 4): refused from its header.
    'worker hello trickle': async ({ worker }, signal, tally) => {
      tally.bound = '40 connections';
      const { host, port } = hostPort(worker);
      const open = new Set<Socket>();
      const openOne = () => {
        if (signal.aborted) return;
        const s = connect(port, host);
        const decoder = new FrameDecoder();
        open.add(s);
        s.on('error', () => {});
        s.on('data', (d: Buffer) => {
          for (const body of decoder.push(d)) {
            const m = decodeMessage(body);
            if (m.t === 'error') count(tally, `closed: ${m.code}`);
          }
        });
        s.once('connect', () => s.write(Buffer.concat([Buffer.from([0x02, 0, 0, 0]), Buffer.alloc(64 * 1024, 1)])));
        const trickle = setInterval(() => !s.destroyed && s.write(Buffer.alloc(1024, 1)), 1000);
        s.once('close', () => {
          clearInterval(trickle);
          open.delete(s);
          if (!signal.aborted) setTimeout(openOne, 500);
        });
      };
      for (let i = 0; i < 40; i++) openOne();
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      for (const s of open) s.destroy();
    },
  };
}

/** Each attack by name. */
export const ATTACKS: Record<string, Attack> = {
  // Over --max-body-bytes: refused from its declared length (413).
  'oversized upload': repeated(2, 500, '/image?width=10', async () => new Uint8Array(9 * 1024 * 1024)),
  // The soak's image function answers 33 MiB at width=4095 (see soak-attack.ts): result_too_large.
  'oversized result': repeated(1, 500, '/image?width=4095', () => png(8, 8)),
  // 64 x 1016 to 4096 wide: 266 M output pixels, refused from the header (400).
  'upscale bomb': repeated(4, 500, '/image?width=4096', () => png(64, 1016)),
  // The largest image allowed (4096 x 4096 out), served: CPU and memory within the bounds.
  'largest image': repeated(2, 1000, '/image?width=4096', () => png(16, 16)),
  // Uploads stopped one byte short of 8 MiB, then a byte a second: the upload budget refuses most (503).
  'slow uploads': sockets(
    100,
    (s) => {
      s.write(UPLOAD_HEAD);
      s.write(UPLOAD_BODY);
    },
    (s) => s.write('x'),
  ),
  // Headers a byte a second, never finished: the header timeout closes them.
  slowloris: sockets(500, (s) => s.write('GET /empty HTTP/1.1\r\n'), (s) => s.write('x')),
  // Connections that never send a byte.
  'idle connections': sockets(1000, () => {}),
  ...ATTACKS_30(),
};

/**
 * `node attacks.js TARGETS_JSON SECONDS [NAMES]`: runs every attack (or those
 * named, comma-separated) against the targets for SECONDS, then prints the
 * tallies as one JSON line. A process of its own, so that its sockets and
 * buffers do not stall the caller measuring the load.
 */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [targets, seconds, only] = [JSON.parse(process.argv[2]!) as Targets, Number(process.argv[3]), process.argv[4]?.split(',')];
  const stop = AbortSignal.timeout(seconds * 1000);
  // AbortSignal.timeout's timer does not hold the process, nor do paused sockets with nothing to write:
  // without this, an attack that only holds unread sockets exits 13 (a top-level await unsettled) mid-phase.
  const hold = setTimeout(() => {}, seconds * 1000 + 15_000);
  // Every attack waits on this one signal, several hundred sockets at once by design (each attack bounds its own).
  setMaxListeners(1000, stop);
  const tallies: Record<string, AttackTally> = {};
  const ended = new Set<string>();
  const all = Promise.all(
    Object.entries(ATTACKS)
      .filter(([name]) => !only || only.includes(name))
      .map(([name, attack]) => {
        const tally: AttackTally = (tallies[name] = { outcomes: {}, bound: '' });
        return attack(targets, stop, tally)
          .catch((err: Error) => count(tally, `attack failed: ${err.message}`))
          .finally(() => ended.add(name));
      }),
  );
  // The tallies are printed 10 s after the stop at the latest: an attack slow to wind down is named, not the cause of no tallies.
  const late = new Promise<void>((resolve) => stop.addEventListener('abort', () => setTimeout(resolve, 10_000), { once: true }));
  await Promise.race([all, late]);
  for (const name of Object.keys(tallies)) if (!ended.has(name)) count(tallies[name]!, 'still winding down 10 s after the stop');
  clearTimeout(hold);
  process.stdout.write(JSON.stringify(tallies) + '\n');
  process.exit(0);
}
