/**
 * Which cores each role runs on. Separate cores keep the roles from stealing
 * each other's time; where there are too few, the plan says who shares, and
 * the run's metadata carries that so the results can be read accordingly.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface PinningPlan {
  mode: 'auto' | 'none';
  cores: number;
  /** taskset core lists, or null where the role is not pinned. */
  worker: string | null;
  gateway: string | null;
  caller: string | null;
  note: string;
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function planPinning(mode: 'auto' | 'none', cores = availableParallelism()): PinningPlan {
  const none = (note: string): PinningPlan => ({ mode, cores, worker: null, gateway: null, caller: null, note });
  if (mode === 'none') return none('pinning off: the OS schedules every role on any core');
  if (process.platform !== 'linux' || !hasTaskset()) return none('no taskset here: the OS schedules every role on any core');
  if (cores < 2) return none('one core: all roles share it');
  if (cores === 2) {
    return {
      mode,
      cores,
      gateway: '0',
      worker: '1',
      caller: null,
      note: 'two cores: gateway on core 0, worker on core 1; the caller is not pinned and shares cores with both servers (see the caller-bound flags)',
    };
  }
  const rest = cores > 3 ? `2-${cores - 1}` : '2';
  return {
    mode,
    cores,
    caller: '0',
    gateway: '1',
    worker: rest,
    note: `caller on core 0, gateway on core 1, worker on cores ${rest}`,
  };
}

/** The command prefix that pins a child process, or none. */
export function pinPrefix(cores: string | null): string[] {
  return cores === null ? [] : ['taskset', '-c', cores];
}

/** Pins this process (the caller runs in it). */
export function pinSelf(cores: string | null): void {
  if (cores !== null) execFileSync('taskset', ['-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}
