/** run.json: everything about a run needed to reproduce it, beside its records. */
import { writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { HOST } from '../trace/records.js';
import { version } from '../version.js';
import type { ExperimentConfig } from './config.js';
import type { PinningPlan } from './pinning.js';

export interface RunMetadata {
  faasbench: string;
  node: string;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'complete' | 'interrupted' | 'failed';
  host: { hostname: string; platform: string; release: string; arch: string; cpu: string; cores: number; memoryGiB: number };
  config: ExperimentConfig;
  mode: 'local' | 'remote';
  /** Local runs: where each role listened. Remote runs: the gateway URLs. */
  addresses: Record<string, string>;
  pinning: PinningPlan | null;
  /** Local runs: the servers started, so anyone can check they are gone. */
  processes: { pid: number; args: string }[];
  cells: { planned: number; done: number };
  /** Cells where the caller flagged itself as the bottleneck. */
  callerBound: string[];
  command: string[];
}

export function newMetadata(config: ExperimentConfig, mode: 'local' | 'remote', pinning: PinningPlan | null, planned: number): RunMetadata {
  const cpu = cpus();
  return {
    faasbench: version,
    node: process.version,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    host: {
      hostname: HOST,
      platform: platform(),
      release: release(),
      arch: arch(),
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    config,
    mode,
    addresses: {},
    pinning,
    processes: [],
    cells: { planned, done: 0 },
    callerBound: [],
    command: process.argv.slice(1),
  };
}

export async function writeMetadata(dir: string, meta: RunMetadata): Promise<void> {
  await writeFile(join(dir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
}
