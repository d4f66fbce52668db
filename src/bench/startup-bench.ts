/**
 * What a faasbench process costs before its first request: `faasbench
 * --version` against node's own start-up, and per framework the gateway's
 * start-up (spawn to connected to its worker) and its RSS at idle against a
 * bare hello world of the same framework (hello-servers.ts, which loads that
 * framework alone). Interleaved rounds; ratios are medians of per-round ratios.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, startGatewayProcess, startWorkerProcess } from '../testing/processes.js';
import { median, startScript } from './children.js';
import { pairedRatio } from './gateway-bench.js';
import { rssMiB } from './soak-memory.js';

export interface VersionRow {
  /** Medians of wall ms from spawn to exit. */
  versionMs: number;
  nodeMs: number;
  /** Median of per-round ratios, --version against node running an empty module. */
  ratio: number;
}

export interface StartupRow {
  framework: string;
  /** Median ms from spawn to connected to its worker. */
  startMs: number;
  /** Medians of RSS after IDLE_MS without a request. */
  gatewayRssMiB: number;
  helloRssMiB: number;
  /** Median of per-round ratios, gateway against hello world. */
  rssRatio: number;
}

/** How long both servers sit idle before their RSS is read, so both are read at rest after start-up. */
const IDLE_MS = 2000;

async function wallMs(args: string[]): Promise<number> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: 'ignore' });
  const [code] = (await once(proc, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}`);
  return performance.now() - t0;
}

export async function versionBench(runs: number): Promise<VersionRow> {
  // The floor: node starting an ES module that does nothing, as cli.js is one.
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-bench-'));
  const empty = join(dir, 'empty.mjs');
  await writeFile(empty, '');
  const version: number[] = [];
  const node: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      node.push(await wallMs([empty]));
      version.push(await wallMs([CLI, '--version']));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { versionMs: median(version), nodeMs: median(node), ratio: pairedRatio(version, node) };
}

export async function startupBench(frameworks: string[], rounds: number): Promise<StartupRow[]> {
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const rows: StartupRow[] = [];
  try {
    for (const framework of frameworks) {
      const start: number[] = [];
      const gatewayRss: number[] = [];
      const helloRss: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        const gateway = await startGatewayProcess(framework, worker.address);
        start.push(performance.now() - t0);
        const hello = await startScript('./hello-servers.js', [framework]);
        try {
          await sleep(IDLE_MS);
          const g = rssMiB(gateway.proc.pid!);
          const h = rssMiB(hello.proc.pid!);
          if (g === null || h === null) throw new Error(`${framework}: a server exited while idle`);
          gatewayRss.push(g);
          helloRss.push(h);
        } finally {
          hello.stop();
          await gateway.stop();
        }
      }
      rows.push({
        framework,
        startMs: median(start),
        gatewayRssMiB: median(gatewayRss),
        helloRssMiB: median(helloRss),
        rssRatio: pairedRatio(gatewayRss, helloRss),
      });
    }
  } finally {
    await worker.stop();
  }
  return rows;
}
