/**
 * Pinning for the benches: the servers measured on core 1, the load (this
 * process, its load generators, the worker, the echo) on core 0. Unpinned, a
 * server shares its core with its own load, and its CPU per request swings
 * with the scheduler (2× between rounds on two cores).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { hasTaskset } from '../run/pinning.js';

const LOAD_CORE = '0';
const SERVER_CORE = '1';

/** Children started while pinned inherit the load's core. */
export interface BenchCores {
  /** Pins every thread of a server under measurement to a core of its own. */
  server(pid: number): void;
  /** Gives this process the cores it had before; children started later inherit them. */
  release(): void;
}

/** Why pinning is not possible here, or null. */
export function pinningUnavailable(): string | null {
  if (availableParallelism() < 2) return 'needs two cores';
  return hasTaskset() ? null : 'needs taskset (util-linux)';
}

// -a: every thread of the process, libuv's pool and V8's helpers included.
function pin(pid: number, cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}

/**
 * Pins this process to the load's core and returns the pinning, or null
 * where `pinningUnavailable()`. Call `release()` when done.
 */
export function benchCores(): BenchCores | null {
  if (pinningUnavailable() !== null) return null;
  // "pid 42's current affinity list: 0,1"
  const before = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }).split(':').pop()!.trim();
  pin(process.pid, LOAD_CORE);
  return {
    server: (pid) => pin(pid, SERVER_CORE),
    release: () => pin(process.pid, before),
  };
}
