/**
 * Analysis at scale: writes the records of 1,505,000 requests (caller,
 * gateway and worker lines each, ~4.5 M lines) into a temp dir, then runs
 * `faasbench analyze` on them as a child process and reports its wall time
 * and peak RSS (VmHWM, sampled from /proc/<pid>/status) against the budget
 * of issue 32: 10 s and 512 MiB on the 2-core development machine, with the
 * default outputs (report, summary.json, requests.parquet).
 *
 * The records look like a real multi-host run: two runs, two caller hosts,
 * one gateway host with five framework logs, two worker hosts whose
 * monotonic clocks are hours away from the gateway's (one beyond 2^53 ns),
 * interleaved cells, warm-up, a few errors and a few records that do not join.
 *
 *   npm run bench:analysis [-- [--requests N] [--keep]]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../analysis/compute/random.js';
import { CLI } from '../run/role-process.js';
import { integerFlag, scriptArgs, usageError } from './script-args.js';

const BUDGET_S = 10;
const BUDGET_BYTES = 512 * 2 ** 20;
const FRAMEWORKS = ['node', 'fastify', 'express', 'koa', 'hono'];
/** Endpoint, function time (ns) and the caller's connections for it. */
const ENDPOINTS = [
  { fn: 'empty', path: '/empty', fnNs: 3_000, connections: 150 },
  { fn: 'sleep', path: '/sleep?ms=20', fnNs: 20_050_000, connections: 150 },
  { fn: 'math', path: '/math?n=100000', fnNs: 1_400_000, connections: 50 },
  { fn: 'image', path: '/image?width=320', fnNs: 38_000_000, connections: 20 },
];
/** Extra ns each framework spends on the way in and on the way out. */
const FRAMEWORK_COST: Record<string, [number, number]> = {
  node: [25_000, 30_000],
  fastify: [30_000, 35_000],
  express: [60_000, 70_000],
  koa: [40_000, 45_000],
  hono: [35_000, 40_000],
};

/** A host's monotonic clock: its reading at the generator's time zero, as decimal ns. */
class HostClock {
  private readonly hi: number;
  private readonly lo: number;
  constructor(readonly host: string, base: bigint) {
    this.hi = Number(base / 1_000_000_000n);
    this.lo = Number(base % 1_000_000_000n);
  }
  /** The host's stamp at generator time `ns` (an integer), exact beyond 2^53. */
  text(ns: number): string {
    const sum = this.lo + ns;
    const carry = Math.floor(sum / 1e9);
    return `"${this.hi + carry}${String(sum - carry * 1e9).padStart(9, '0')}"`;
  }
}

class Out {
  private parts: string[] = [];
  private size = 0;
  private readonly stream: WriteStream;
  constructor(path: string) {
    this.stream = createWriteStream(path);
  }
  async line(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size > 1 << 22) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const ok = this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
    if (!ok) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export interface GeneratedRecords {
  requests: number;
  files: number;
  bytes: number;
}

/** Writes the records of `total` requests under `dir` (two runs). */
export async function generateRecords(dir: string, total: number, seed = 7): Promise<GeneratedRecords> {
  const random = seededRandom(seed);
  // Exponential-ish jitter around a mean, never below a floor: latencies have long right tails.
  const jitter = (mean: number, floor = mean / 4) => Math.max(floor, Math.round(-Math.log(1 - random()) * mean));
  const H = 3_600_000_000_000;
  const gateway = new HostClock('gw-1', 86_400_000_000_000n * 3n);
  const callers = [new HostClock('caller-1', 86_400_000_000_000n * 40n), new HostClock('caller-2', 12_345_678_901_234n)];
  const workers = [
    new HostClock('worker-1', 86_400_000_000_000n * 3n + BigInt(3 * H) + 123_456_789n), // gateway + 3 h
    new HostClock('worker-2', 86_400_000_000_000n * 250n), // beyond 2^53 ns (~104 days)
  ];
  let written = 0;
  let files = 0;
  const runs = 2;
  for (let run = 0; run < runs; run++) {
    const runDir = join(dir, `run-${run + 1}`);
    await mkdir(runDir, { recursive: true });
    const callerOut = callers.map((c) => new Out(join(runDir, `caller-${c.host}.ndjson`)));
    const gatewayOut = new Map(FRAMEWORKS.map((f) => [f, new Out(join(runDir, `gateway-${f}.ndjson`))]));
    const workerOut = workers.map((w) => new Out(join(runDir, `worker-${w.host}.ndjson`)));
    files += callerOut.length + gatewayOut.size + workerOut.length;
    const share = Math.floor(total / runs) + (run < total % runs ? 1 : 0);
    // Interleaved cells: endpoint × framework blocks of 2,500 requests, round after round.
    const cell = 2_500;
    let clock = (run + 1) * 600_000_000_000; // generator time, ns
    for (let done = 0, block = 0; done < share; block++) {
      const endpoint = ENDPOINTS[Math.floor(block / FRAMEWORKS.length) % ENDPOINTS.length]!;
      const framework = FRAMEWORKS[block % FRAMEWORKS.length]!;
      const [costIn, costOut] = FRAMEWORK_COST[framework]!;
      const n = Math.min(cell, share - done);
      const warmup = Math.floor(n / 20);
      const c = callerOut[block % callers.length]!;
      const callerClock = callers[block % callers.length]!;
      const g = gatewayOut.get(framework)!;
      // Closed loop: `connections` requests in flight, each sent when one returns.
      const slots = new Float64Array(Math.min(endpoint.connections, n)).fill(clock);
      for (let k = 0; k < n; k++) {
        const id = `r${run}-${block}-${k}`;
        const slot = k % slots.length;
        const t0 = slots[slot]! + jitter(2_000);
        const t1 = t0 + jitter(60_000);
        const t2 = t1 + jitter(costIn);
        const t3r = t2 + jitter(25_000);
        const t3s = t3r + jitter(4_000, 500);
        const t3e = t3s + Math.round(endpoint.fnNs * (0.9 + 0.2 * random()));
        const t3o = t3e + jitter(12_000);
        const t4 = t3o + jitter(25_000);
        const t5 = t4 + jitter(costOut);
        const t6 = t5 + jitter(50_000);
        slots[slot] = t6;
        if (t6 > clock) clock = t6;
        const wi = k % workers.length;
        const w = workers[wi]!;
        const failed = random() < 0.001;
        const status = failed ? 500 : 200;
        const error = failed ? '"function_error"' : 'null';
        const roll = random();
        // A few records that do not join: each kind of loss, rarely.
        const noCaller = roll < 0.0002;
        const noGateway = roll >= 0.0002 && roll < 0.0004;
        const noWorker = roll >= 0.0004 && roll < 0.0006;
        if (!noCaller) {
          await c.line(
            `{"role":"caller","host":"${callerClock.host}","id":"${id}","method":"GET","path":"${endpoint.path}",` +
              `"connections":${endpoint.connections},"warmup":${k < warmup},"status":${status},"bytes":${failed ? 180 : 210},` +
              `"error":null,"t0":${callerClock.text(t0)},"t6":${callerClock.text(t6)}}\n`,
          );
        }
        const w0 = w.text(t3r), w1 = w.text(t3s), w2 = w.text(t3e), w3 = w.text(t3o);
        if (!noGateway) {
          await g.line(
            `{"role":"gateway","host":"${gateway.host}","id":"${id}","framework":"${framework}","fn":"${endpoint.fn}",` +
              `"status":${status},"error":${error},"t1":${gateway.text(t1)},"t2":${gateway.text(t2)},` +
              `"t3_recv":${w0},"t3_start":${w1},"t3_end":${w2},"t3_send":${w3},` +
              `"t4":${gateway.text(t4)},"t5":${gateway.text(t5)},"worker":"10.0.0.${wi + 11}:7070"}\n`,
          );
        }
        if (!noWorker) {
          await workerOut[wi]!.line(
            `{"role":"worker","host":"${w.host}","id":"${id}","fn":"${endpoint.fn}","error":${error},` +
              `"t3_recv":${w0},"t3_start":${w1},"t3_end":${w2},"t3_send":${w3}}\n`,
          );
        }
      }
      done += n;
      written += n;
      clock += 50_000_000; // the runner's pause between cells
    }
    await Promise.all([...callerOut, ...gatewayOut.values(), ...workerOut].map((o) => o.close()));
  }
  return { requests: written, files, bytes: await sizeOf(dir) };
}

async function sizeOf(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return bytes;
}

export interface AnalysisRun {
  wallS: number;
  peakRssBytes: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `faasbench analyze` as a child process; samples its VmHWM until it exits. */
export async function runAnalysis(args: string[]): Promise<AnalysisRun> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, 'analyze', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) * 1024);
    } catch {
      // gone
    }
  };
  const timer = setInterval(sample, 20);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(timer);
  return { wallS: Number(process.hrtime.bigint() - started) / 1e9, peakRssBytes: peak, exitCode: code, stdout, stderr };
}

async function main(): Promise<void> {
  const usage = 'usage: npm run bench:analysis -- [--requests 1505000] [--keep]';
  const fail = usageError('bench:analysis', usage);
  const values = scriptArgs(
    { options: { requests: { type: 'string', default: '1505000' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } },
    usage,
    fail,
  );
  const requests = integerFlag('requests', values.requests, 1000, 100_000_000, fail);
  const keep = values.keep;
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-analysis-bench-'));
  try {
    let t = Date.now();
    const gen = await generateRecords(dir, requests);
    process.stdout.write(
      `generated ${gen.requests.toLocaleString('en')} requests (${gen.files} files, ${(gen.bytes / 2 ** 20).toFixed(0)} MiB) in ${((Date.now() - t) / 1000).toFixed(1)} s: ${dir}\n`,
    );
    t = Date.now();
    const r = await runAnalysis([dir, '--out', join(dir, 'report')]);
    if (r.exitCode !== 0) throw new Error(`analyze exited ${r.exitCode}:\n${r.stderr}`);
    process.stdout.write(r.stdout.split('\n').filter((l) => /^requests:|^warning:/.test(l)).join('\n') + '\n');
    const ok = r.wallS <= BUDGET_S && r.peakRssBytes <= BUDGET_BYTES;
    process.stdout.write(
      `analyze: ${r.wallS.toFixed(1)} s wall (budget ${BUDGET_S} s), peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB ` +
        `(VmHWM sampled every 20 ms; budget ${BUDGET_BYTES / 2 ** 20} MiB): ${ok ? 'within budget' : 'OVER BUDGET'}\n`,
    );
    process.stdout.write(
      JSON.stringify({ bench: 'analysis', requests: gen.requests, bytes: gen.bytes, wall_s: r.wallS, peak_rss_bytes: r.peakRssBytes, within_budget: ok }) + '\n',
    );
    if (!ok) process.exitCode = 1;
  } finally {
    if (keep) process.stdout.write(`kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
