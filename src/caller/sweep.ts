/**
 * A sweep over connection counts: one closed- or open-loop run per count, in
 * turn, all writing to the same records file (each record carries its
 * `connections`). Throughput and latency against connections is the original report's
 * Figure 3, which is how it chose 150 connections.
 */
import { runCaller, type CallerResult } from './run-caller.js';
import { CallerOptionsError, type CallerOptions } from './options.js';

export interface SweepOptions extends Omit<CallerOptions, 'connections'> {
  connections: readonly number[];
  /** Called after each count's run, e.g. to print rows as they come. */
  onRow?: (row: SweepRow) => void;
}

export interface SweepRow {
  connections: number;
  throughput: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  /** The caller flagged itself as a possible bottleneck in this run. */
  bottleneck: boolean;
  result: CallerResult;
}

export async function runSweep(options: SweepOptions): Promise<SweepRow[]> {
  const { connections, onRow, ...rest } = options;
  if (connections.length === 0) throw new CallerOptionsError('a sweep needs at least one connection count');
  const rows: SweepRow[] = [];
  for (const count of connections) {
    if (options.signal?.aborted) break;
    const result = await runCaller({ ...rest, connections: count });
    const row: SweepRow = {
      connections: count,
      throughput: result.throughput,
      p50: result.latencyUs.p50,
      p99: result.latencyUs.p99,
      requests: result.requests,
      errors: result.errorCount,
      bottleneck: result.bottleneck.flagged,
      result,
    };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}
