/**
 * `npm run bench:caller`: is the caller a fair instrument? Three checks, each
 * as medians over interleaved rounds within one run (the order of the
 * contenders rotates every round, so drift on a shared machine hits all alike):
 *  (a) against /sleep?ms=20 through a real gateway + worker at 10 connections,
 *      the caller's p50 must lie in [20, 21.5] ms;
 *  (b) against a bare node:http hello world, at saturation with the same
 *      connection count: our caller vs wrk vs autocannon. Target: throughput
 *      >= 0.9x wrk's, p50 within 15% of wrk's;
 *  (c) records on vs off: throughput >= 0.95x; the caller's CPU per request
 *      is shown too, since a server-bound run hides the caller's cost.
 * Pinning (unless --no-pin; cores.ts): the servers on one core; this process
 * (our caller), wrk and autocannon (each its own process) on another, so the
 * load generator does not steal the server's core. Take the shared lock before running:
 *   flock /tmp/faasbench-bench.lock npm run bench:caller
 * Options: --rounds N (5), --seconds S (5), --connections C (100), --no-pin.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type autocannon from 'autocannon';
import { runCaller, type CallerResult } from '../caller/index.js';
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { median, startScript } from './children.js';
import { benchCores, pinningUnavailable } from './cores.js';
import { integerFlag, scriptArgs, usageError } from './script-args.js';

const USAGE = 'usage: npm run bench:caller -- [--rounds 5] [--seconds 5] [--connections 100] [--no-pin]';
const fail = usageError('bench:caller', USAGE);
const values = scriptArgs(
  {
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '100' },
      'no-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  },
  USAGE,
  fail,
);
const rounds = integerFlag('rounds', values.rounds, 1, 1000, fail);
const seconds = integerFlag('seconds', values.seconds, 1, 3600, fail);
const connections = integerFlag('connections', values.connections, 1, 10_000, fail);
// wrk and autocannon, started after this, inherit the load's core.
const cores = values['no-pin'] ? null : benchCores();
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Sample {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  meanMs: number;
  /** Our caller only: its CPU per answered request, µs, and whether it flagged itself. */
  cpuUs?: number;
  flagged?: boolean;
}

async function ours(url: string, out: string | undefined, conns = connections, warmupMs = 0, durationMs = seconds * 1000): Promise<Sample & { result: CallerResult }> {
  const cpu = process.cpuUsage();
  const result = await runCaller({ url, connections: conns, durationMs, warmupMs, out });
  const used = process.cpuUsage(cpu);
  if (result.errorCount > 0) throw new Error(`caller: ${JSON.stringify(result.errors)}`);
  const answered = result.responses + result.warmupRequests;
  return {
    rps: result.throughput,
    p50Ms: result.latencyUs.p50 / 1000,
    p90Ms: result.latencyUs.p90 / 1000,
    meanMs: result.latencyUs.mean / 1000,
    cpuUs: (used.user + used.system) / answered,
    flagged: result.bottleneck.flagged,
    result,
  };
}

/** wrk's own units: 830.00us, 2.89ms, 1.20s. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) throw new Error(`wrk latency ${text}`);
  return Number(m[1]) * ({ us: 1e-3, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]!;
}

function wrk(url: string, conns = connections, secs = seconds): Promise<Sample> {
  const args = ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(err);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const p50 = /^\s+50%\s+(\S+)/m.exec(stdout);
      const p90 = /^\s+90%\s+(\S+)/m.exec(stdout);
      const mean = /^\s+Latency\s+(\S+)/m.exec(stdout);
      if (/Socket errors|Non-2xx/.test(stdout)) return reject(new Error(`wrk saw errors:\n${stdout}`));
      if (!rps || !p50 || !p90 || !mean) return reject(new Error(`cannot read wrk's output:\n${stdout}`));
      resolve({ rps: Number(rps[1]), p50Ms: wrkMs(p50[1]!), p90Ms: wrkMs(p90[1]!), meanMs: wrkMs(mean[1]!) });
    });
  });
}

/** autocannon's own CLI in a child process (pinned like wrk), so its heap and GC do not share ours. */
function cannon(url: string): Promise<Sample> {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(seconds), '-j', url];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: (seconds + 30) * 1000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as autocannon.Result;
      if (r.errors > 0 || r.non2xx > 0) return reject(new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`));
      resolve({ rps: r.requests.total / r.duration, p50Ms: r.latency.p50, p90Ms: r.latency.p90, meanMs: r.latency.average });
    });
  });
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);
const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');

const dir = await mkdtemp(join(tmpdir(), 'faasbench-caller-bench-'));
console.log(
  `faasbench caller bench: node ${process.version}, ${rounds} interleaved rounds of ${seconds} s, medians; ` +
    (cores ? `${cores.text} (taskset)` : `no pinning (${values['no-pin'] ? '--no-pin' : pinningUnavailable()})`) +
    '\n',
);

// (a) /sleep?ms=20 through a real gateway and worker, 10 connections.
{
  // The floor (functions on the worker's loop): what is measured is the path to the worker, not an isolation mode.
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const gateway = await startGatewayProcess('node', worker.address);
  cores?.server(worker.proc.pid!);
  cores?.server(gateway.proc.pid!);
  try {
    const url = `${gateway.url}/sleep?ms=20`;
    // wrk alongside as a reference: if it sees the same p50, the time is the server's, not the caller's.
    const caller: Sample[] = [];
    const ref: Sample[] = [];
    await wrk(url, 10, 1); // warm-up
    for (let i = 0; i < rounds; i++) {
      const pair = [async () => caller.push(await ours(url, undefined, 10, 1000)), async () => ref.push(await wrk(url, 10))];
      if (i % 2 === 1) pair.reverse();
      for (const run of pair) await run();
    }
    const p50 = median(caller.map((x) => x.p50Ms));
    console.log('(a) GET /sleep?ms=20 via gateway (node) + worker, 10 connections, closed loop');
    console.log(`    caller p50 ${fmt(p50, 3)} ms (rounds: ${caller.map((x) => fmt(x.p50Ms, 3)).join(', ')}), p90 ${fmt(median(caller.map((x) => x.p90Ms)), 3)} ms`);
    console.log(`    wrk    p50 ${fmt(median(ref.map((x) => x.p50Ms)), 3)} ms (rounds: ${ref.map((x) => fmt(x.p50Ms, 3)).join(', ')}), p90 ${fmt(median(ref.map((x) => x.p90Ms)), 3)} ms`);
    console.log(`    target 20 <= caller p50 <= 21.5 ms: ${verdict(p50 >= 20 && p50 <= 21.5)}\n`);
  } finally {
    await gateway.stop();
    await worker.stop();
  }
}

// (b) and (c): a bare node:http hello world at saturation.
const hello = await startScript('./hello-servers.js', ['node']);
cores?.server(hello.proc.pid!);
const url = `http://127.0.0.1:${hello.port}/empty`;
const contenders: Record<string, () => Promise<Sample>> = {
  caller: () => ours(url, undefined),
  'caller+records': async () => {
    const out = join(dir, 'records.ndjson');
    try {
      return await ours(url, out);
    } finally {
      await rm(out, { force: true });
    }
  },
  wrk: () => wrk(url),
  autocannon: () => cannon(url),
};
const names = Object.keys(contenders);
const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
try {
  // One short warm-up run each (server JIT, our own JIT), not counted.
  await ours(url, undefined, connections, 0, 1000);
  await wrk(url);
  for (let i = 0; i < rounds; i++) {
    // Rotate the order every round: A B C D, B C D A, ...
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      samples.get(name)!.push(await contenders[name]!());
    }
  }
} finally {
  hello.stop();
  await rm(dir, { recursive: true, force: true });
}

const col = (name: string, key: 'rps' | 'p50Ms' | 'p90Ms' | 'meanMs' | 'cpuUs') => samples.get(name)!.map((s) => s[key] ?? NaN);
/** The median of per-round ratios a/b. */
const ratio = (a: string, b: string, key: 'rps' | 'p50Ms') => median(col(a, key).map((x, i) => x / col(b, key)[i]!));

console.log(`(b) GET /empty on a bare node:http hello world, ${connections} connections, closed loop, ${seconds} s per run`);
console.log('    contender        req/s (median)   p50 ms   p90 ms  mean ms   caller CPU µs/req   self-check flagged');
for (const name of names) {
  const s = samples.get(name)!;
  const cpu = col(name, 'cpuUs');
  const flagged = s.filter((x) => x.flagged).length;
  console.log(
    `    ${name.padEnd(15)}  ${fmt(median(col(name, 'rps')), 0).padStart(14)}  ${fmt(median(col(name, 'p50Ms')), 3).padStart(7)}` +
      `  ${fmt(median(col(name, 'p90Ms')), 3).padStart(7)}  ${fmt(median(col(name, 'meanMs')), 3).padStart(7)}` +
      `  ${cpu.some(Number.isNaN) ? '-'.padStart(17) : fmt(median(cpu), 1).padStart(17)}` +
      `  ${s[0]!.flagged === undefined ? '-' : `${flagged}/${s.length}`}`,
  );
}
const tput = ratio('caller', 'wrk', 'rps');
const p50 = ratio('caller', 'wrk', 'p50Ms');
console.log(`    caller/wrk throughput ratio ${fmt(tput, 3)}  (target >= 0.9: ${verdict(tput >= 0.9)})`);
console.log(`    caller/wrk p50 ratio        ${fmt(p50, 3)}  (target within 15%: ${verdict(Math.abs(p50 - 1) <= 0.15)})`);
console.log(`    autocannon/wrk throughput   ${fmt(ratio('autocannon', 'wrk', 'rps'), 3)}, p50 ${fmt(ratio('autocannon', 'wrk', 'p50Ms'), 3)} (whole-ms histogram)\n`);

const rec = ratio('caller+records', 'caller', 'rps');
const cpuOff = median(col('caller', 'cpuUs'));
const cpuOn = median(col('caller+records', 'cpuUs'));
console.log('(c) cost of recording every request (same runs as (b))');
console.log(`    records on/off throughput ratio ${fmt(rec, 3)}  (target >= 0.95: ${verdict(rec >= 0.95)})`);
console.log(`    caller CPU per request: ${fmt(cpuOff, 2)} µs off, ${fmt(cpuOn, 2)} µs on (+${fmt(cpuOn - cpuOff, 2)} µs)`);
