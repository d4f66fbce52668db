/**
 * End-to-end test helpers: the real `faasbench` binary on port 0, killed by
 * PID when a test stops it (or at exit at the latest).
 */
import { readFile } from 'node:fs/promises';
import { connectedToWorker, startRole, type RoleProcess } from '../run/role-process.js';

export { CLI, startRole, type RoleProcess } from '../run/role-process.js';

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
  await connectedToWorker(role);
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
    .filter((r) => (r.type === 'sample') === (kind === 'samples'));
}
