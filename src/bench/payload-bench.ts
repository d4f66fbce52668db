/**
 * Answers by size, at one connection: faasbench (node gateway, worker
 * --isolation inline) against its floors serving the same bytes (payload-servers.ts):
 * a bare node:http server, and a bare proxy with the same TCP hop. Latency is
 * the caller's own (runCaller, as `faasbench caller` measures it), from t0 to
 * the last byte. Each round measures every server once per cell, one after
 * the other; the ratios are taken within a round, and their median reported.
 */
import { runCaller } from '../caller/run-caller.js';
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { median, startScript, type Child } from './children.js';
import { pairedRatio } from './gateway-bench.js';
import type { BenchCores } from './cores.js';

export const PAYLOAD_SIZES = [100, 100 * 1024, 1024 * 1024];
export const PAYLOAD_FORMATS = ['raw', 'json'] as const;

export interface PayloadRow {
  bytes: number;
  format: (typeof PAYLOAD_FORMATS)[number];
  /** Medians over the rounds of each server's p50, µs. */
  oursP50: number;
  bareP50: number;
  proxyP50: number;
  /** The least faasbench took in any round, µs. */
  oursMin: number;
  /** Medians of the per-round ratios. */
  vsBare: number;
  vsProxy: number;
  /** faasbench's p50 over its own minimum in the same cell (median over rounds). */
  oursP50VsMin: number;
}

/** Requests per cell: fewer for the large answers, whose spread is wider but each takes longer. */
function requestsFor(bytes: number, scale: number): number {
  return Math.max(50, Math.round((bytes >= 1024 * 1024 ? 300 : bytes >= 100 * 1024 ? 800 : 2000) * scale));
}

async function measure(url: string, requests: number): Promise<{ p50: number; min: number }> {
  const r = await runCaller({ url, connections: 1, requests, warmupMs: 300, timeoutMs: 30_000 });
  if (r.errorCount > 0) throw new Error(`${url}: ${r.errorCount} of ${r.requests} requests failed (${JSON.stringify(r.errors)})`);
  return { p50: r.latencyUs.p50, min: r.latencyUs.min };
}

export async function payloadBench(rounds: number, scale: number, cores: BenchCores | null): Promise<PayloadRow[]> {
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const children: Child[] = [];
  const gateway = await startGatewayProcess('node', worker.address);
  try {
    const bare = await startScript('./payload-servers.js', ['bare']);
    children.push(bare);
    const backend = await startScript('./payload-servers.js', ['backend']);
    children.push(backend);
    const proxy = await startScript('./payload-servers.js', ['proxy', String(backend.port)]);
    children.push(proxy);
    // The HTTP servers alone on their core; the caller (this process), the worker and the back end on the other.
    for (const pid of [gateway.proc.pid!, bare.proc.pid!, proxy.proc.pid!]) cores?.server(pid);
    const servers = { ours: gateway.url, bare: `http://127.0.0.1:${bare.port}`, proxy: `http://127.0.0.1:${proxy.port}` };
    const rows: PayloadRow[] = [];
    for (const bytes of PAYLOAD_SIZES) {
      for (const format of PAYLOAD_FORMATS) {
        const path = `/payload?bytes=${bytes}&format=${format}`;
        const requests = requestsFor(bytes, scale);
        const s = { ours: [] as number[], oursMin: [] as number[], bare: [] as number[], proxy: [] as number[] };
        for (let i = 0; i < rounds; i++) {
          const ours = await measure(servers.ours + path, requests);
          s.ours.push(ours.p50);
          s.oursMin.push(ours.min);
          s.bare.push((await measure(servers.bare + path, requests)).p50);
          s.proxy.push((await measure(servers.proxy + path, requests)).p50);
        }
        rows.push({
          bytes,
          format,
          oursP50: median(s.ours),
          bareP50: median(s.bare),
          proxyP50: median(s.proxy),
          oursMin: Math.min(...s.oursMin),
          vsBare: pairedRatio(s.ours, s.bare),
          vsProxy: pairedRatio(s.ours, s.proxy),
          oursP50VsMin: pairedRatio(s.ours, s.oursMin),
        });
      }
    }
    return rows;
  } finally {
    for (const c of children) c.stop();
    await gateway.stop();
    await worker.stop();
  }
}
