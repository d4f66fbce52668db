/**
 * Pinning for the benches: each server measured alone on one core, the load
 * (this process, its load generators, the worker, the echo) on another; the
 * first two cores this process may use. Unpinned, a server shares its core
 * with its own load, and its CPU per request swings with the scheduler (up to
 * 2× between rounds on two cores).
 */
import { execFileSync } from 'node:child_process';
import { hasTaskset } from '../run/pinning.js';

/** Children started while pinned inherit the load's core. */
export interface BenchCores {
  /** Pins every thread of a server under measurement to a core of its own. */
  server(pid: number): void;
  /** Gives this process the cores it had before; children started later inherit them. */
  release(): void;
  /** Which core is which, for the bench's output. */
  text: string;
}

/** taskset's list form ("0-2,5") as core numbers. */
export function parseCoreList(list: string): number[] {
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.trim().split('-').map(Number) as [number, number?];
    return Array.from({ length: to! - from + 1 }, (_, k) => from + k);
  });
}

/** The cores this process may use, as taskset lists them. */
function allowedCores(): string {
  // "pid 42's current affinity list: 0,1"
  return execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }).split(':').pop()!.trim();
}

/** Why pinning is not possible here, or null. */
export function pinningUnavailable(): string | null {
  if (!hasTaskset()) return 'needs taskset (util-linux)';
  return parseCoreList(allowedCores()).length < 2 ? 'needs two cores' : null;
}

// -a: every thread of the process, libuv's pool and V8's helpers included.
function pin(pid: number, cores: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`taskset could not pin ${pid} to ${cores}: ${stderr || (err as Error).message}`);
  }
}

/**
 * Pins this process to the load's core and returns the pinning, or null
 * where `pinningUnavailable()`. Call `release()` when done.
 */
export function benchCores(): BenchCores | null {
  if (pinningUnavailable() !== null) return null;
  const before = allowedCores();
  const [load, server] = parseCoreList(before).map(String) as [string, string];
  pin(process.pid, load);
  return {
    server: (pid) => pin(pid, server),
    release: () => pin(process.pid, before),
    text: `servers on core ${server}, their load on core ${load}`,
  };
}
