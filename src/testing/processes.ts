/**
 * End-to-end test helpers: the real `faasbench` binary on port 0, killed by
 * PID when a test stops it (or at exit at the latest).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CLI, connectedToWorker, startRole, type RoleProcess } from '../run/role-process.js';

export { CLI, startRole, type RoleProcess } from '../run/role-process.js';

/**
 * Tests share a busy machine: a role may take many seconds to start or stop
 * there. These limits only catch a role that never will.
 */
export const PATIENT = { timeoutMs: 120_000, killAfterMs: 30_000 };

export async function startWorkerProcess(extra: string[] = [], port = 0): Promise<RoleProcess & { address: string }> {
  const role = await startRole(['worker', '--port', String(port), ...extra], 'worker listening', PATIENT);
  return Object.assign(role, { address: role.ready.address as string });
}

/** Starts a gateway and waits until it is connected to its worker. */
export async function startGatewayProcess(
  framework: string,
  worker: string,
  extra: string[] = [],
): Promise<RoleProcess & { url: string }> {
  const role = await startRole(['gateway', '--framework', framework, '--port', '0', '--worker', worker, ...extra], 'gateway listening', PATIENT);
  await connectedToWorker(role, 1, PATIENT.timeoutMs);
  return Object.assign(role, { url: role.ready.url as string });
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

/** Reads an NDJSON file into objects: its request records, or with `samples`, its saturation samples. */
export async function readRecords(file: string, kind: 'requests' | 'samples' = 'requests'): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => (kind === 'samples' ? r.type === 'sample' : r.type === undefined));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `faasbench ...args` to its end (a command that should exit at once, or
 * one stopped by `signalWhen`: sent `signal`, default SIGTERM, once stderr
 * matches it). Killed by PID after `timeoutMs`, so a hang fails the test
 * rather than the run.
 */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; signalWhen?: RegExp; signal?: NodeJS.Signals; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (options.signalWhen && !signalled && options.signalWhen.test(stderr)) {
        signalled = true;
        child.kill(options.signal ?? 'SIGTERM');
      }
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
