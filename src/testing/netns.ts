/**
 * Test hosts in network namespaces on this machine, for tests that must see
 * what crosses a network: a delay on one link, kernel stamps per host. Needs
 * root and `ip netns`; a test without them is skipped with the reason, or
 * fails under CI (where .ci/run provides them).
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLI, type CliResult } from './processes.js';

const RELAY = fileURLToPath(new URL('./delay-relay.js', import.meta.url));

/** What a relay held its chunks for, since last asked (ms). */
export interface RelayHolds {
  name: string;
  n: number;
  p50_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
}

export interface Relays {
  /** From now on, each chunk arriving at relay `name` goes on `ms` later, either way. */
  delay(name: string, ms: number): void;
  holds(name: string): Promise<RelayHolds>;
  stop(): Promise<void>;
}

export type TestHost = 'caller' | 'gateway' | 'worker';

/** Why these tests cannot run here; null when they can. Under CI as root, a missing piece is a failure, not a skip. */
export function netnsSkipReason(): string | null {
  let reason: string | null = null;
  if (process.platform !== 'linux') reason = 'network namespaces need Linux';
  else if (process.getuid?.() !== 0) reason = 'network namespaces need root';
  else if (spawnSync('ip', ['-V']).status !== 0) reason = "no 'ip' command (Debian package iproute2)";
  else {
    const probe = `fbk-probe-${process.pid}`;
    const made = spawnSync('ip', ['netns', 'add', probe]).status === 0;
    if (made) spawnSync('ip', ['netns', 'del', probe]);
    else reason = "'ip netns add' failed: no right to make network namespaces here";
  }
  if (reason !== null && process.env.CI && process.getuid?.() === 0) throw new Error(`${reason} (under CI as root these tests must run)`);
  return reason;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * A star: caller, gateway and worker each on a veth of its own to a router
 * namespace (10.231.N.1 on the host, 10.231.N.254 on the router; N from this
 * process's pid, so parallel runs do not meet). Hosts reach each other only
 * through what runs on the router: a delay relay (delay-relay.ts) per link.
 */
export class TestNet {
  readonly ns: Record<TestHost | 'router', string>;
  /** Each host's address, and the router's on that host's link. */
  readonly address: Record<TestHost, string>;
  readonly router: Record<TestHost, string>;

  constructor() {
    const id = process.pid % 100_000;
    const tag = id.toString(36);
    this.ns = { caller: `fbk-c-${tag}`, gateway: `fbk-g-${tag}`, worker: `fbk-w-${tag}`, router: `fbk-r-${tag}` };
    const subnet = (k: number) => `10.231.${(id * 3 + k) % 250}`;
    this.address = { caller: `${subnet(0)}.1`, gateway: `${subnet(1)}.1`, worker: `${subnet(2)}.1` };
    this.router = { caller: `${subnet(0)}.254`, gateway: `${subnet(1)}.254`, worker: `${subnet(2)}.254` };
  }

  create(): this {
    this.destroy();
    for (const ns of Object.values(this.ns)) {
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    (['caller', 'gateway', 'worker'] as const).forEach((host, k) => {
      const end = `fbk${k}${this.ns.router.slice(6)}`;
      const peer = `fbr${k}${this.ns.router.slice(6)}`;
      ip('link', 'add', end, 'netns', this.ns[host], 'type', 'veth', 'peer', 'name', peer, 'netns', this.ns.router);
      ip('-n', this.ns[host], 'addr', 'add', `${this.address[host]}/24`, 'dev', end);
      ip('-n', this.ns.router, 'addr', 'add', `${this.router[host]}/24`, 'dev', peer);
      ip('-n', this.ns[host], 'link', 'set', end, 'up');
      ip('-n', this.ns.router, 'link', 'set', peer, 'up');
    });
    return this;
  }

  /** argv prefix that runs a command on `host`, named so in the records ($FAASBENCH_HOST), with more environment if given. */
  prefix(host: TestHost | 'router', env: Record<string, string> = {}): string[] {
    return ['ip', 'netns', 'exec', this.ns[host], 'env', `FAASBENCH_HOST=${host}`, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  }

  /** Runs `faasbench ...args` on `host` to its end; killed by PID after `timeoutMs`. */
  run(host: TestHost, args: string[], timeoutMs = 120_000): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const [cmd, ...rest] = this.prefix(host);
      const child = spawn(cmd!, [...rest, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(kill);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** Starts delay relays on the router, `name: 'listenHost:port>toHost:port'` each, with no delay yet. */
  async relays(specs: Record<string, string>): Promise<Relays> {
    const [cmd, ...rest] = this.prefix('router');
    const child = spawn(cmd!, [...rest, process.execPath, RELAY, ...Object.entries(specs).map(([k, v]) => `${k}=${v}`)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    const waiting: ((line: string) => void)[] = [];
    lines.on('line', (line) => waiting.shift()?.(line));
    const next = () =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the delay relay did not answer')), 60_000);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(line);
        });
      });
    const ready = next();
    child.once('exit', (code) => waiting.splice(0).forEach((w) => w(`exited ${code}`)));
    if ((await ready) !== 'ready') throw new Error('the delay relay did not start');
    return {
      delay: (name, ms) => void child.stdin!.write(`delay ${name} ${ms}\n`),
      holds: async (name) => {
        const answer = next();
        child.stdin!.write(`holds ${name}\n`);
        return JSON.parse(await answer) as RelayHolds;
      },
      stop: async () => {
        if (child.exitCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  /** Removes the namespaces (and with them the veths, qdiscs and anything left listening in them). */
  destroy(): void {
    for (const ns of Object.values(this.ns)) spawnSync('ip', ['netns', 'del', ns]);
  }
}
