/**
 * What the inline watchdog costs per call: two `--isolation inline` workers,
 * one with the watchdog and one with FAASBENCH_INLINE_WATCHDOG=off, each sent
 * sequential `empty` calls over raw RPC in interleaved rounds (so both see the
 * same machine). Prints the medians of the worker's own time per call,
 * t3_send − t3_recv, which holds the watchdog's marks, in µs.
 *
 *   npm run build && node dist/src/bench/inline-watchdog-bench.js [rounds] [calls per round]
 */
import { startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { rawRpc, type RawRpc } from '../testing/rpc-client.js';
import { defaultFunctionsDir } from '../worker/registry.js';
import { median } from './children.js';

const rounds = Number(process.argv[2] ?? 20);
const perRound = Number(process.argv[3] ?? 500);

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

const workers = { with: await start(true), without: await start(false) };
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
  const withUs = median(samples.with);
  const withoutUs = median(samples.without);
  console.log(
    JSON.stringify({
      calls_each: samples.with.length,
      worker_us_median_with: +withUs.toFixed(2),
      worker_us_median_without: +withoutUs.toFixed(2),
      watchdog_cost_us: +(withUs - withoutUs).toFixed(2),
    }),
  );
} finally {
  for (const w of Object.values(workers)) w.rpc.close();
  await Promise.all(Object.values(workers).map((w) => w.proc.stop()));
}
