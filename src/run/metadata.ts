/** run.json: everything about a run needed to reproduce it, beside its records. */
import { writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { HOST } from '../trace/records.js';
import { version } from '../version.js';
import type { ArrivalCheck } from '../caller/arrival-check.js';
import type { CallerResult } from '../caller/index.js';
import type { ProbeResult } from '../caller/probe.js';
import type { MedianTail, PercentileInterval } from '../stats/quantile-interval.js';
import type { Cell, ExperimentConfig } from './config.js';
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
  /** Cells whose caller checked its arrivals (open loop) or ran a probe stream: what it found, with the load's p50 and p99 beside. */
  callerChecks: CallerCheck[];
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
    callerChecks: [],
    command: process.argv.slice(1),
  };
}

export async function writeMetadata(dir: string, meta: RunMetadata): Promise<void> {
  await writeFile(join(dir, 'run.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/** One cell's arrival check and probe, as the caller reported them (src/caller/arrival-check.ts, probe.ts). */
export interface CallerCheck {
  framework: string;
  path: string;
  connections: number;
  round: number;
  /** The load's latency (µs) and its 95% intervals, for the probe's to be read beside. */
  latencyUs: MedianTail<number>;
  latencyCiUs: MedianTail<PercentileInterval | null>;
  arrivals: ArrivalCheck | null;
  probe: ProbeResult | null;
}

export function callerCheckOf(cell: Cell, r: CallerResult): CallerCheck | null {
  if (r.arrivals === null && r.probe === null) return null;
  return {
    framework: cell.framework,
    path: cell.path,
    connections: cell.connections,
    round: cell.round,
    latencyUs: { p50: r.latencyUs.p50, p99: r.latencyUs.p99 },
    latencyCiUs: { p50: r.latencyCiUs.p50, p99: r.latencyCiUs.p99 },
    arrivals: r.arrivals,
    probe: r.probe,
  };
}
