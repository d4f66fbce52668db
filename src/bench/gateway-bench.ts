/**
 * Gateway cost: CPU time per request of `faasbench gateway` on /empty against
 * a bare hello world of the same framework, and of the gateway with records
 * on (plain and gzipped) against records off. CPU is read from /proc for the
 * server's PID only (all its threads: gzip runs on libuv's pool),
 * so the load generator and the worker sharing the machine do not count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { cpuSeconds, median, startScript } from './children.js';

/** CPU µs per request of process `pid` while serving `requests` GETs of `url`. */
export async function cpuPerRequest(pid: number, url: string, requests: number): Promise<number> {
  await autocannon({ url, connections: 50, amount: Math.floor(requests / 5) }); // warm-up
  const before = cpuSeconds(pid);
  const result = await autocannon({ url, connections: 50, amount: requests });
  const used = cpuSeconds(pid) - before;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return (used * 1e6) / result.requests.sent;
}

export interface GatewayBenchRow {
  framework: string;
  helloUs: number;
  gatewayUs: number;
  gatewayRecordsUs: number;
  gatewayRecordsGzUs: number;
}

export async function gatewayBench(frameworks: string[], rounds: number, requests: number): Promise<GatewayBenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-bench-'));
  // The floor (functions on the worker's loop): what is measured is the path to the worker, not an isolation mode.
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const rows: GatewayBenchRow[] = [];
  try {
    for (const framework of frameworks) {
      const hello = await startScript('./hello-servers.js', [framework]);
      const plain = await startGatewayProcess(framework, worker.address);
      const recording = await startGatewayProcess(framework, worker.address, ['--log', join(dir, `${framework}.ndjson`)]);
      const gzipping = await startGatewayProcess(framework, worker.address, ['--log', join(dir, `${framework}.ndjson.gz`)]);
      const samples = { hello: [] as number[], plain: [] as number[], recording: [] as number[], gzipping: [] as number[] };
      try {
        // Interleaved rounds, so drift on a shared machine hits all three alike.
        for (let i = 0; i < rounds; i++) {
          samples.hello.push(await cpuPerRequest(hello.proc.pid!, `http://127.0.0.1:${hello.port}/empty`, requests));
          samples.plain.push(await cpuPerRequest(plain.proc.pid!, `${plain.url}/empty`, requests));
          samples.recording.push(await cpuPerRequest(recording.proc.pid!, `${recording.url}/empty`, requests));
          samples.gzipping.push(await cpuPerRequest(gzipping.proc.pid!, `${gzipping.url}/empty`, requests));
        }
      } finally {
        hello.stop();
        await plain.stop();
        await recording.stop();
        await gzipping.stop();
      }
      rows.push({
        framework,
        helloUs: median(samples.hello),
        gatewayUs: median(samples.plain),
        gatewayRecordsUs: median(samples.recording),
        gatewayRecordsGzUs: median(samples.gzipping),
      });
    }
  } finally {
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
