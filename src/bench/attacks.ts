/**
 * The attacks of the attack soak (issue 18), each a loop bounded in what it
 * holds at once, running until its signal aborts, and tallying what the
 * gateway answered. Targets are the gateway the soak itself started.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export interface AttackTally {
  /** Answers by HTTP status and error code, e.g. "400 bad_input"; "closed" when the gateway closed without one. */
  outcomes: Record<string, number>;
  /** What the attack holds at most at once. */
  bound: string;
}

type Attack = (base: string, signal: AbortSignal, tally: AttackTally) => Promise<void>;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

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
    const res = await fetch(base + path, { method: 'POST', body, signal });
    const text = res.headers.get('content-type')?.includes('json') ? await res.text() : (await res.arrayBuffer(), '');
    count(tally, answerOf(`${res.status} ${text}`));
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string } }).cause;
    if (!signal.aborted) count(tally, `failed ${cause?.code ?? (err as Error).message}`);
  }
}

/** `parallel` requests at a time, again and again, `pauseMs` apart. */
function repeated(parallel: number, pauseMs: number, path: string, body: () => Promise<Uint8Array>): Attack {
  return async (base, signal, tally) => {
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
  return async (base, signal, tally) => {
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
};

/**
 * `node attacks.js BASE_URL SECONDS`: runs every attack against BASE_URL for
 * SECONDS, then prints the tallies as one JSON line. A process of its own, so
 * that its sockets and buffers do not stall the caller measuring the load.
 */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [base, seconds, only] = [process.argv[2]!, Number(process.argv[3]), process.argv[4]?.split(',')];
  const stop = AbortSignal.timeout(seconds * 1000);
  const tallies: Record<string, AttackTally> = {};
  await Promise.all(
    Object.entries(ATTACKS)
      .filter(([name]) => !only || only.includes(name))
      .map(([name, attack]) => {
      const tally: AttackTally = (tallies[name] = { outcomes: {}, bound: '' });
      return attack(base, stop, tally).catch((err: Error) => count(tally, `attack failed: ${err.message}`));
    }),
  );
  process.stdout.write(JSON.stringify(tallies) + '\n');
  process.exit(0);
}
