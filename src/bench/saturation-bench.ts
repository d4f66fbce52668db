/**
 * Saturation throughput of the node gateway against a bare node:http hello
 * world and the bare proxy (hello-servers.ts), each server pinned alone to
 * the second core; the caller (this process), the worker and the echo share
 * the first. Closed loop on /empty; the servers' CPU shows which of them
 * ran out of core. Needs the pinning of cores.ts.
 */
import { runCaller } from '../caller/index.js';
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { cpuSeconds, median, startScript } from './children.js';
import type { BenchCores } from './cores.js';
import { pairedRatio } from './gateway-bench.js';

export interface SaturationRow {
  server: 'hello' | 'proxy' | 'gateway';
  /** Medians over the rounds. */
  requestsPerSecond: number;
  /** Of the server's core while measured, %. */
  cpuPercent: number;
  /** Median of per-round ratios to the hello world's requests/s. */
  vsHello: number;
}

export async function saturationBench(rounds: number, seconds: number, cores: BenchCores): Promise<SaturationRow[]> {
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const echo = await startScript('./echo-server.js', ['raw']);
  const hello = await startScript('./hello-servers.js', ['node']);
  const proxy = await startScript('./hello-servers.js', ['proxy', String(echo.port)]);
  const gateway = await startGatewayProcess('node', worker.address);
  const servers = [
    { server: 'hello' as const, pid: hello.proc.pid!, url: `http://127.0.0.1:${hello.port}/empty` },
    { server: 'proxy' as const, pid: proxy.proc.pid!, url: `http://127.0.0.1:${proxy.port}/empty` },
    { server: 'gateway' as const, pid: gateway.proc.pid!, url: `${gateway.url}/empty` },
  ];
  const rps = servers.map(() => [] as number[]);
  const cpu = servers.map(() => [] as number[]);
  try {
    for (const s of servers) cores.server(s.pid);
    for (let i = 0; i < rounds; i++) {
      for (const [j, s] of servers.entries()) {
        await runCaller({ url: s.url, connections: 50, durationMs: 500, warmupMs: 0 });
        const before = cpuSeconds(s.pid);
        const result = await runCaller({ url: s.url, connections: 50, durationMs: seconds * 1000, warmupMs: 0 });
        const used = cpuSeconds(s.pid) - before;
        if (result.errorCount > 0) throw new Error(`${s.url}: ${result.errorCount} failed requests`);
        rps[j]!.push(result.throughput);
        cpu[j]!.push((100 * used) / result.window.seconds);
      }
    }
  } finally {
    hello.stop();
    proxy.stop();
    echo.stop();
    await gateway.stop();
    await worker.stop();
  }
  return servers.map((s, j) => ({
    server: s.server,
    requestsPerSecond: median(rps[j]!),
    cpuPercent: median(cpu[j]!),
    vsHello: pairedRatio(rps[j]!, rps[0]!),
  }));
}
