/** Child processes for benchmarks: started, measured by PID, and killed by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface Child {
  proc: ChildProcess;
  port: number;
  stop(): void;
}

/** Runs a bench helper script (one of ours) that prints {"port":N} when ready. */
export async function startScript(script: string, args: string[] = []): Promise<Child> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const proc = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: proc.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  return { proc, port, stop: () => proc.kill('SIGTERM') };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplitSeconds(pid);
  return user + system;
}

/** CPU seconds of process `pid` so far, in user space and in the kernel. */
export function cpuSplitSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
