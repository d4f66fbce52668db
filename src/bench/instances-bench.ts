/**
 * What instances cost: per isolation mode, the worker's own time per warm
 * call (t3_send − t3_recv − function), and the phases of a cold start, from
 * the real worker's replies and records. Modes interleave within a round.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { readRecords, startWorkerProcess } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';
import { median } from './children.js';

export const ISOLATIONS = ['inline', 'thread', 'process'] as const;
export const COLD_PHASES = ['before_spawn', 'boot_and_load', 'init', 'hand_over'] as const;

export interface IsolationRow {
  isolation: (typeof ISOLATIONS)[number];
  /** Median over rounds of each round's median, µs. */
  warmOutsideUs: number;
  /** Cold calls' phases, µs (null under inline: it never starts cold). */
  cold: Record<(typeof COLD_PHASES)[number], number> | null;
  coldCalls: number;
}

const ns = (r: Record<string, unknown>, k: string) => Number(BigInt(r[k] as string));

/** The worker's own time per warm call, µs, each a median over `calls` sequential calls. */
async function warmOutside(isolation: (typeof ISOLATIONS)[number], calls: number): Promise<number> {
  const worker = await startWorkerProcess(['--isolation', isolation, '--sample-interval-ms', '0']);
  const rpc = await rawRpc(worker.address);
  const outside: number[] = [];
  try {
    for (let k = 0; k < calls + 50; k++) {
      const [r] = await rpc.burst([{ fn: 'empty' }], 120_000);
      if (k < 50 || !r || r.err) continue; // the first calls start the instance and warm the JIT up
      outside.push(Number(r.t3_send - r.t3_recv - (r.t3_end - r.t3_start)) / 1e3);
    }
  } finally {
    rpc.close();
    await worker.stop();
  }
  return median(outside);
}

/** `calls` cold calls, each after its instance expired, and their records. */
async function coldStarts(isolation: 'thread' | 'process', calls: number, log: string): Promise<Record<(typeof COLD_PHASES)[number], number>[]> {
  // A keep-warm far shorter than the pause between calls: each call starts an instance.
  const worker = await startWorkerProcess(['--isolation', isolation, '--keep-warm', '50ms', '--log', log, '--sample-interval-ms', '0']);
  const rpc = await rawRpc(worker.address);
  try {
    for (let k = 0; k < calls; k++) {
      await rpc.burst([{ fn: 'empty' }], 120_000);
      await delay(300);
    }
  } finally {
    rpc.close();
    await worker.stop();
  }
  return (await readRecords(log))
    .filter((r) => r.cold === true)
    .map((r) => ({
      before_spawn: (ns(r, 'cold_spawn') - ns(r, 't3_recv')) / 1e3,
      boot_and_load: (ns(r, 'cold_loaded') - ns(r, 'cold_spawn')) / 1e3,
      init: (ns(r, 'cold_init') - ns(r, 'cold_loaded')) / 1e3,
      hand_over: (ns(r, 't3_start') - ns(r, 'cold_init')) / 1e3,
    }));
}

export async function instancesBench(rounds: number, warmCalls: number, coldCalls: number): Promise<IsolationRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-instances-bench-'));
  try {
    const warm = new Map<string, number[]>(ISOLATIONS.map((i) => [i, []]));
    const colds = new Map<string, Record<(typeof COLD_PHASES)[number], number>[]>(ISOLATIONS.map((i) => [i, []]));
    for (let round = 0; round < rounds; round++) {
      for (const isolation of ISOLATIONS) {
        warm.get(isolation)!.push(await warmOutside(isolation, warmCalls));
        if (isolation !== 'inline') colds.get(isolation)!.push(...(await coldStarts(isolation, coldCalls, join(dir, `${isolation}-${round}.ndjson`))));
      }
    }
    return ISOLATIONS.map((isolation) => {
      const cold = colds.get(isolation)!;
      return {
        isolation,
        warmOutsideUs: median(warm.get(isolation)!),
        cold: cold.length ? (Object.fromEntries(COLD_PHASES.map((p) => [p, median(cold.map((c) => c[p]))])) as IsolationRow['cold']) : null,
        coldCalls: cold.length,
      };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
