/**
 * Gateway cost: CPU time per request of `faasbench gateway` on /empty against
 * a bare hello world of the same framework and against a bare proxy of the
 * same framework (its hello world with a TCP hop and nothing else), and of the gateway with records
 * on (plain and gzipped) against records off. CPU is read from /proc for the
 * server's PID only (all its threads: gzip runs on libuv's pool),
 * so the load generator and the worker sharing the machine do not count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { cpuSplitSeconds, median, startScript } from './children.js';
import type { BenchCores } from './cores.js';

/** CPU µs per request of process `pid` while serving `requests` GETs of `url`. */
export async function cpuPerRequest(pid: number, url: string, requests: number, connections = 50): Promise<number> {
  const { user, system } = await cpuSplitPerRequest(pid, url, requests, connections);
  return user + system;
}

/** CPU µs in user space and in the kernel. */
export interface CpuSplit {
  user: number;
  system: number;
}

/** The same, in user space and in the kernel. */
export async function cpuSplitPerRequest(pid: number, url: string, requests: number, connections = 50): Promise<CpuSplit> {
  await autocannon({ url, connections, amount: Math.floor(requests / 5) }); // warm-up
  const before = cpuSplitSeconds(pid);
  const result = await autocannon({ url, connections, amount: requests });
  const after = cpuSplitSeconds(pid);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const perRequest = (s: number) => (s * 1e6) / result.requests.sent;
  return { user: perRequest(after.user - before.user), system: perRequest(after.system - before.system) };
}

export interface GatewayBenchRow {
  framework: string;
  /** Medians of CPU µs per request. */
  helloUs: number;
  proxyUs: number;
  gatewayUs: number;
  gatewayRecordsUs: number;
  gatewayRecordsGzUs: number;
  /** The same, split into user space and the kernel (a TCP hop costs mostly in the kernel): the median round's. /proc's split is of 10 ms ticks: coarse with --quick. */
  split: Record<'hello' | 'proxy' | 'gateway', CpuSplit>;
  /** Medians of the per-round ratios: each pair measured in the same round, minutes apart at most. */
  gatewayVsHello: number;
  proxyVsHello: number;
  gatewayVsProxy: number;
  recordsVsPlain: number;
  gzVsPlain: number;
  /** The lowest and highest per-round ratio of each: how far one round may stray on a shared machine. */
  ranges: Record<'gatewayVsProxy' | 'recordsVsPlain' | 'gzVsPlain', [number, number]>;
}

/** The lowest and highest of the ratios a[i] / b[i]. */
export function ratioRange(a: number[], b: number[]): [number, number] {
  const ratios = a.map((x, i) => x / b[i]!);
  return [Math.min(...ratios), Math.max(...ratios)];
}

/** The median of the ratios a[i] / b[i] of one round each. */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/** With `cores`, each server alone on its core and the rest (autocannon in this process, worker, echo) on the other; `connections` of autocannon's. */
export async function gatewayBench(
  frameworks: string[],
  rounds: number,
  requests: number,
  cores: BenchCores | null,
  connections = 50,
): Promise<GatewayBenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-bench-'));
  // The floor (functions on the worker's loop): what is measured is the path to the worker, not an isolation mode.
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const echo = await startScript('./echo-server.js', ['raw']);
  const rows: GatewayBenchRow[] = [];
  try {
    for (const framework of frameworks) {
      const hello = await startScript('./hello-servers.js', [framework]);
      // The bare proxy of the same framework: against it, the gateway shows its own cost, not its framework's or the TCP hop's.
      const proxy = await startScript('./hello-servers.js', ['proxy', String(echo.port), framework]);
      const plain = await startGatewayProcess(framework, worker.address);
      const recording = await startGatewayProcess(framework, worker.address, ['--log', join(dir, `${framework}.ndjson`)]);
      const gzipping = await startGatewayProcess(framework, worker.address, ['--log', join(dir, `${framework}.ndjson.gz`)]);
      for (const server of [hello, proxy, plain, recording, gzipping]) cores?.server(server.proc.pid!);
      const samples = { hello: [] as number[], proxy: [] as number[], plain: [] as number[], recording: [] as number[], gzipping: [] as number[] };
      const split = { hello: [] as CpuSplit[], proxy: [] as CpuSplit[], plain: [] as CpuSplit[] };
      const measure = async (pid: number, url: string, into: 'hello' | 'proxy' | 'plain') => {
        const cpu = await cpuSplitPerRequest(pid, url, requests, connections);
        samples[into].push(cpu.user + cpu.system);
        split[into].push(cpu);
      };
      // The split of the round whose total is the median (the lower middle of an even count), so that its parts add up to a round's total.
      const medianRound = (of: CpuSplit[]) => [...of].sort((a, b) => a.user + a.system - (b.user + b.system))[(of.length - 1) >> 1]!;
      try {
        // Interleaved rounds, so drift on a shared machine hits all alike.
        for (let i = 0; i < rounds; i++) {
          await measure(hello.proc.pid!, `http://127.0.0.1:${hello.port}/empty`, 'hello');
          await measure(proxy.proc.pid!, `http://127.0.0.1:${proxy.port}/empty`, 'proxy');
          await measure(plain.proc.pid!, `${plain.url}/empty`, 'plain');
          samples.recording.push(await cpuPerRequest(recording.proc.pid!, `${recording.url}/empty`, requests, connections));
          samples.gzipping.push(await cpuPerRequest(gzipping.proc.pid!, `${gzipping.url}/empty`, requests, connections));
        }
      } finally {
        hello.stop();
        proxy.stop();
        await plain.stop();
        await recording.stop();
        await gzipping.stop();
      }
      rows.push({
        framework,
        helloUs: median(samples.hello),
        proxyUs: median(samples.proxy),
        gatewayUs: median(samples.plain),
        gatewayRecordsUs: median(samples.recording),
        gatewayRecordsGzUs: median(samples.gzipping),
        split: { hello: medianRound(split.hello), proxy: medianRound(split.proxy), gateway: medianRound(split.plain) },
        gatewayVsHello: pairedRatio(samples.plain, samples.hello),
        proxyVsHello: pairedRatio(samples.proxy, samples.hello),
        gatewayVsProxy: pairedRatio(samples.plain, samples.proxy),
        recordsVsPlain: pairedRatio(samples.recording, samples.plain),
        gzVsPlain: pairedRatio(samples.gzipping, samples.plain),
        ranges: {
          gatewayVsProxy: ratioRange(samples.plain, samples.proxy),
          recordsVsPlain: ratioRange(samples.recording, samples.plain),
          gzVsPlain: ratioRange(samples.gzipping, samples.plain),
        },
      });
    }
  } finally {
    echo.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
