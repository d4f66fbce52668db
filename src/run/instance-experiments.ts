/**
 * The instance experiments that are not a grid of cells (seeds 001 and 002):
 * backoff (one call after each idle gap, to find when an instance expires)
 * and interference (a steady load beside misbehaving calls). Both drive one
 * gateway with the ordinary caller, so their records are the usual ones; the
 * label says what each request was for.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { runCaller, type CallerResult } from '../caller/index.js';
import { parseDuration } from '../flags.js';
import type { ExperimentConfig } from './config.js';

export interface LifecycleRun {
  config: ExperimentConfig;
  /** The gateway's base URL. */
  url: string;
  out: string;
  timeoutMs: number;
  signal?: AbortSignal;
  say: (line: string) => void;
}

/** The label of a backoff call: its gap, as the config wrote it. */
export const gapLabel = (gap: string) => `gap ${gap}`;
export const NEIGHBOUR_LABEL = 'neighbour';
export const faultLabel = (kind: string) => `fault ${kind}`;

/** One request, recorded like every other. */
function single(r: LifecycleRun, path: string, label: string): Promise<CallerResult> {
  return runCaller({ url: r.url + path, connections: 1, requests: 1, warmupMs: 0, timeoutMs: r.timeoutMs, label, out: join(r.out, 'caller.ndjson'), sampleIntervalMs: 0, signal: r.signal });
}

/** Returns how many calls were made. */
export async function runBackoff(r: LifecycleRun): Promise<number> {
  const { gaps, calls } = r.config.backoff!;
  const path = r.config.endpoints[0]!.path;
  // The first call of all starts the instance, so that each gap's first call follows that gap.
  await single(r, path, 'start');
  let made = 0;
  for (const gap of gaps) {
    for (let k = 0; k < calls && !r.signal?.aborted; k++) {
      await delay(parseDuration(gap, 'gap'), undefined, { signal: r.signal }).catch(() => {});
      if (r.signal?.aborted) break;
      const res = await single(r, path, gapLabel(gap));
      made++;
      r.say(`gap ${gap} call ${k + 1}/${calls}: ${(res.latencyUs.p50 / 1000).toFixed(2)} ms`);
    }
  }
  return made;
}

/** Returns how many faults were called. */
export async function runInterference(r: LifecycleRun): Promise<number> {
  const { faults, phase } = r.config.interference!;
  const phaseMs = parseDuration(phase, 'interference.phase');
  const stop = new AbortController();
  const neighbours = runCaller({
    url: r.url + r.config.endpoints[0]!.path,
    connections: [r.config.connections].flat()[0]!,
    // Bounded: ended by `stop` once the faults and the quiet phase after them are over.
    durationMs: 10 * 60_000,
    warmupMs: 0,
    timeoutMs: r.timeoutMs,
    label: NEIGHBOUR_LABEL,
    out: join(r.out, 'caller.ndjson'),
    signal: r.signal ? AbortSignal.any([r.signal, stop.signal]) : stop.signal,
  });
  let made = 0;
  await delay(phaseMs, undefined, { signal: r.signal }).catch(() => {});
  for (const kind of faults) {
    if (r.signal?.aborted) break;
    const res = await single(r, `/fault?kind=${kind}`, faultLabel(kind));
    made++;
    r.say(`fault ${kind}: status ${Object.keys(res.statusCounts).join(',') || 'none'} after ${(res.latencyUs.p50 / 1000).toFixed(0)} ms`);
  }
  await delay(phaseMs, undefined, { signal: r.signal }).catch(() => {});
  stop.abort();
  const n = await neighbours;
  r.say(`neighbours: ${n.requests} requests, ${n.errorCount} errors`);
  return made;
}
