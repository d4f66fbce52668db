/**
 * Starts `faasbench <role>` as a child process and learns its address from
 * its startup log line (so port 0 works). Used by `faasbench run`, by the
 * benchmarks and by the end-to-end tests. Every process started here is
 * killed by PID on stop(), or at exit at the latest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLOSE_GUARD_MS, EXIT_WITH_PARENT_ENV } from '../role.js';

export const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export interface RoleProcess {
  proc: ChildProcess;
  /** The faasbench arguments it was started with. */
  args: string[];
  /** The startup log line that said the role is ready. */
  ready: Record<string, unknown>;
  /** Every stderr line so far (the last 2000). */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartRoleOptions {
  /** Runs the role under this command, e.g. ['taskset', '-c', '1'] to pin it. */
  prefix?: string[];
  timeoutMs?: number;
  /** Also called with every stderr line. */
  onLog?: (line: string) => void;
  /** How long stop() waits after its signal before SIGKILL (default: a little longer than the role's own close guard). */
  killAfterMs?: number;
}

/**
 * A role that has not said it is ready by then is given up. Generous: a role
 * that fails exits at once (and is reported then); one that is merely slow,
 * five gateways loading their frameworks at once on a busy machine, took 35 s.
 */
const READY_TIMEOUT_MS = 120_000;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Spawns `faasbench ...args` and waits for a log line whose msg is `readyMsg`. */
export async function startRole(args: string[], readyMsg: string, options: StartRoleOptions = {}): Promise<RoleProcess> {
  const argv = [...(options.prefix ?? []), process.execPath, CLI, ...args];
  const proc = spawn(argv[0]!, argv.slice(1), {
    // stdin is a pipe we never write: the child exits when it closes, even if we are SIGKILLed.
    stdio: ['pipe', 'pipe', 'pipe'],
    // The user's own environment, GLIBC_TUNABLES included (malloc.ts, MALLOC_TUNABLES: an opt-in, not a default).
    env: { ...process.env, FAASBENCH_LOG_LEVEL: childLogLevel(), [EXIT_WITH_PARENT_ENV]: '1' },
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  proc.stdout!.resume();
  const logs: string[] = [];
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`no "${readyMsg}" from faasbench ${args.join(' ')}:\n${logs.join('\n')}`));
    }, options.timeoutMs ?? READY_TIMEOUT_MS);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`faasbench ${args.join(' ')} exited (${code}) before it was ready:\n${logs.join('\n')}`));
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      if (logs.push(line) > 2000) logs.shift();
      options.onLog?.(line);
      if (!line.includes(readyMsg)) return;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === readyMsg) {
          clearTimeout(timer);
          resolve(entry);
        }
      } catch {
        // not a log line
      }
    });
  });
  return {
    proc,
    args,
    ready,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit') as Promise<[number | null]>;
      proc.kill(signal);
      const kill = setTimeout(() => proc.kill('SIGKILL'), options.killAfterMs ?? CLOSE_GUARD_MS + 5000);
      const [code] = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** At least info: readiness is read from the children's info lines, whatever level the parent runs at. */
function childLogLevel(): string {
  const level = process.env.FAASBENCH_LOG_LEVEL;
  return level === 'debug' || level === 'trace' ? level : 'info';
}

/** Waits until a gateway's log says it is connected to a worker. */
export async function connectedToWorker(role: RoleProcess, count = 1, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (role.logs.filter((l) => l.includes('"connected to worker"')).length < count) {
    if (Date.now() > deadline) throw new Error(`the gateway did not connect to its worker:\n${role.logs.join('\n')}`);
    if (role.proc.exitCode !== null) throw new Error(`the gateway exited:\n${role.logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
