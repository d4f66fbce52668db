/**
 * Test support: a TCP relay that holds every chunk for a set time each way,
 * a network link with a delay of our choosing. `tc netem` would do it in the
 * kernel, but not every kernel has sch_netem (this project's test machines
 * lack it), and a relay needs nothing: a chunk arriving at the relay's socket
 * reaches the far socket `delay` later, as on a slow link.
 *
 *   node delay-relay.js NAME=LISTEN_HOST:PORT>TO_HOST:PORT ...
 *
 * stdin, one command a line: `delay NAME MS` (chunks arriving from now on),
 * `holds NAME` (prints {"name","n","p50_ms","min_ms","max_ms"} of the holds
 * since the last ask, as measured on the monotonic clock, then forgets them).
 * Prints `ready` once every relay listens.
 */
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

interface Relay {
  delayMs: number;
  holds: number[];
}

const relays = new Map<string, Relay>();

/** One direction of one connection: chunks leave in order, each no sooner than its arrival plus the delay. */
function pipeDelayed(from: Socket, to: Socket, relay: Relay): void {
  const queue: { chunk: Buffer; arrived: number; due: number }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let lastDue = 0;
  const flush = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) {
      const { chunk, arrived } = queue.shift()!;
      to.write(chunk);
      relay.holds.push(performance.now() - arrived);
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
  };
  from.on('data', (chunk) => {
    const arrived = performance.now();
    if (relay.delayMs === 0 && queue.length === 0) {
      to.write(chunk);
      relay.holds.push(0);
      return;
    }
    lastDue = Math.max(lastDue, arrived + relay.delayMs);
    queue.push({ chunk, arrived, due: lastDue });
    if (timer === null) timer = setTimeout(flush, lastDue - arrived);
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', () => to.destroy());
}

async function listen(name: string, spec: string): Promise<void> {
  const m = /^(.+):(\d+)>(.+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad relay ${name}=${spec}`);
  const relay: Relay = { delayMs: 0, holds: [] };
  relays.set(name, relay);
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ host: m[3]!, port: Number(m[4]), noDelay: true });
    pipeDelayed(client, upstream, relay);
    pipeDelayed(upstream, client, relay);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1]!, resolve);
  });
}

for (const arg of process.argv.slice(2)) {
  const eq = arg.indexOf('=');
  await listen(arg.slice(0, eq), arg.slice(eq + 1));
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, name, value] = line.trim().split(/\s+/);
  const relay = relays.get(name ?? '');
  if (!relay) return;
  if (command === 'delay') relay.delayMs = Number(value);
  if (command === 'holds') {
    const holds = relay.holds.sort((a, b) => a - b);
    relay.holds = [];
    const at = (q: number) => holds[Math.min(holds.length - 1, Math.floor(q * holds.length))] ?? null;
    process.stdout.write(`${JSON.stringify({ name, n: holds.length, p50_ms: at(0.5), min_ms: at(0), max_ms: at(1) })}\n`);
  }
});
process.stdin.once('end', () => process.exit(0));
process.stdout.write('ready\n');
