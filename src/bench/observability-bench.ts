/**
 * What observability costs the gateway: CPU per request on /empty with
 * metrics on (--metrics-port, never scraped: the cost per request, not per
 * scrape) and with Server-Timing on, each against a gateway with both off.
 * Same worker, interleaved rounds; ratios are medians of per-round ratios.
 */
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { median } from './children.js';
import type { BenchCores } from './cores.js';
import { cpuPerRequest, pairedRatio } from './gateway-bench.js';

export interface ObservabilityBenchRow {
  framework: string;
  /** Medians of CPU µs per request. */
  offUs: number;
  metricsUs: number;
  serverTimingUs: number;
  /** Medians of the per-round ratios against `off`. */
  metricsRatio: number;
  serverTimingRatio: number;
}

const VARIANTS = {
  off: ['--no-server-timing'],
  metrics: ['--no-server-timing', '--metrics-port', '0'],
  serverTiming: [],
} as const;

/** With `cores`, each gateway alone on its core and the rest (autocannon in this process, the worker) on the other. */
export async function observabilityBench(frameworks: string[], rounds: number, requests: number, cores: BenchCores | null): Promise<ObservabilityBenchRow[]> {
  // The floor (functions on the worker's loop): what is measured is the path to the worker, not an isolation mode.
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const rows: ObservabilityBenchRow[] = [];
  try {
    for (const framework of frameworks) {
      const gateways = await Promise.all(Object.values(VARIANTS).map((extra) => startGatewayProcess(framework, worker.address, [...extra])));
      for (const g of gateways) cores?.server(g.proc.pid!);
      const samples: number[][] = gateways.map(() => []);
      try {
        for (let i = 0; i < rounds; i++) {
          for (const [j, g] of gateways.entries()) samples[j]!.push(await cpuPerRequest(g.proc.pid!, `${g.url}/empty`, requests));
        }
      } finally {
        await Promise.all(gateways.map((g) => g.stop()));
      }
      const [offUs, metricsUs, serverTimingUs] = samples.map(median) as [number, number, number];
      const [off, metrics, serverTiming] = samples as [number[], number[], number[]];
      rows.push({ framework, offUs, metricsUs, serverTimingUs, metricsRatio: pairedRatio(metrics, off), serverTimingRatio: pairedRatio(serverTiming, off) });
    }
  } finally {
    await worker.stop();
  }
  return rows;
}
