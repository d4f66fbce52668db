/**
 * Starts the real `faasbench` binary for end-to-end tests, on port 0, and
 * learns its address from its startup log line. Every process started here
 * is killed by PID when the test calls stop(), or at exit at the latest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export interface RoleProcess {
  proc: ChildProcess;
  /** The startup log line that said the role is ready. */
  ready: Record<string, unknown>;
  /** Every stderr line so far. */
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Spawns `faasbench ...args` and waits for a log line whose msg is `readyMsg`. */
export async function startRole(args: string[], readyMsg: string, timeoutMs = 15_000): Promise<RoleProcess> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FAASBENCH_LOG_LEVEL: 'info' },
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  proc.stdout!.resume();
  const logs: string[] = [];
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${readyMsg}" from faasbench ${args.join(' ')}:\n${logs.join('\n')}`)), timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`faasbench ${args.join(' ')} exited (${code}) before ready:\n${logs.join('\n')}`));
    });
    createInterface({ input: proc.stderr! }).on('line', (line) => {
      logs.push(line);
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
    ready,
    logs,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const [code] = (await once(proc, 'exit')) as [number | null];
      clearTimeout(kill);
      return code;
    },
  };
}

export async function startWorkerProcess(extra: string[] = [], port = 0): Promise<RoleProcess & { address: string }> {
  const role = await startRole(['worker', '--port', String(port), ...extra], 'worker listening');
  return Object.assign(role, { address: role.ready.address as string });
}

/** Starts a gateway and waits until it is connected to its worker. */
export async function startGatewayProcess(
  framework: string,
  worker: string,
  extra: string[] = [],
): Promise<RoleProcess & { url: string }> {
  const role = await startRole(['gateway', '--framework', framework, '--port', '0', '--worker', worker, ...extra], 'gateway listening');
  const url = role.ready.url as string;
  await waitFor(() => role.logs.some((l) => l.includes('"connected to worker"')), 10_000, 'the gateway to connect');
  return Object.assign(role, { url });
}

/** Polls until `check` is true; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads an NDJSON file into objects. */
export async function readRecords(file: string): Promise<Record<string, unknown>[]> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
