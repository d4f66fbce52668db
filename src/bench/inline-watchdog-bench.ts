/**
 * What the inline watchdog costs per call: two `--isolation inline` workers,
 * one with the watchdog and one with FAASBENCH_INLINE_WATCHDOG=off, each sent
 * sequential `empty` calls over raw RPC in interleaved rounds (so both see the
 * same machine), over several pairs of fresh workers. Prints the medians of
 * the worker's own time per call, t3_send − t3_recv, which holds the
 * watchdog's marks, in µs, per pair, and the median of the pairs' differences.
 *
 *   npm run build && node dist/src/bench/inline-watchdog-bench.js [pairs] [rounds] [calls per round]
 */
import { startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { rawRpc, type RawRpc } from '../testing/rpc-client.js';
import { defaultFunctionsDir } from '../worker/registry.js';
import { median } from './children.js';

const pairs = Number(process.argv[2] ?? 8);
const rounds = Number(process.argv[3] ?? 10);
const perRound = Number(process.argv[4] ?? 500);

async function start(watchdog: boolean): Promise<{ proc: RoleProcess; rpc: RawRpc }> {
  const env = process.env.FAASBENCH_INLINE_WATCHDOG;
  if (watchdog) delete process.env.FAASBENCH_INLINE_WATCHDOG;
  else process.env.FAASBENCH_INLINE_WATCHDOG = 'off';
  try {
    const proc = await startWorkerProcess(['--functions', defaultFunctionsDir, '--isolation', 'inline']);
    return { proc, rpc: await rawRpc(proc.address) };
  } finally {
    if (env === undefined) delete process.env.FAASBENCH_INLINE_WATCHDOG;
    else process.env.FAASBENCH_INLINE_WATCHDOG = env;
  }
}

/** One pair of fresh workers; returns the medians, with and without. */
async function pair(first: 'with' | 'without'): Promise<{ with: number; without: number }> {
  // Started in turn in either order: which process runs faster (its core, its
  // JIT) differs from pair to pair by more than the watchdog costs.
  const a = await start(first === 'with');
  const b = await start(first !== 'with');
  const workers = first === 'with' ? { with: a, without: b } : { with: b, without: a };
  const samples: Record<keyof typeof workers, number[]> = { with: [], without: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always follows the other.
      const order = (r % 2 ? ['with', 'without'] : ['without', 'with']) as (keyof typeof workers)[];
      for (const key of order) {
        for (let k = 0; k < perRound; k++) {
          const [reply] = await workers[key].rpc.burst([{ fn: 'empty' }]);
          // The first tenth of each round warms up after the other worker's turn.
          if (k >= perRound / 10) samples[key].push(Number(reply!.t3_send - reply!.t3_recv) / 1000);
        }
      }
    }
    return { with: median(samples.with), without: median(samples.without) };
  } finally {
    for (const w of [a, b]) w.rpc.close();
    await Promise.all([a, b].map((w) => w.proc.stop()));
  }
}

const results = [];
for (let p = 0; p < pairs; p++) results.push(await pair(p % 2 ? 'without' : 'with'));
const round2 = (x: number) => +x.toFixed(2);
console.log(
  JSON.stringify({
    pairs,
    calls_each_per_pair: Math.ceil(rounds * perRound * 0.9),
    worker_us_median_with: results.map((r) => round2(r.with)),
    worker_us_median_without: results.map((r) => round2(r.without)),
    watchdog_cost_us_median_of_pairs: round2(median(results.map((r) => r.with - r.without))),
  }),
);
