/**
 * The first three commands people type find each other with no address
 * flags: the defaults agree (read from the commands themselves), and the
 * three run together as written, on free ports instead of the defaults.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import yargs, { type CommandModule } from 'yargs';
import { callerCommand } from './caller/command.js';
import { gatewayCommand } from './gateway/command.js';
import { CLI, startGatewayProcess, startWorkerProcess } from './testing/processes.js';
import { workerCommand } from './worker/command.js';

/** The arguments a command's handler would get for `argv`, defaults filled in. */
async function parsed(command: CommandModule<object, never>, argv: string[]): Promise<Record<string, unknown>> {
  let args: Record<string, unknown> | undefined;
  await yargs(argv)
    .command({ ...command, handler: (a: Record<string, unknown>) => void (args = a) } as CommandModule)
    .strict()
    .fail((message, err) => {
      throw err ?? new Error(message);
    })
    .parseAsync();
  assert.ok(args, `${argv.join(' ')} reached its handler`);
  return args;
}

test('worker, gateway and caller defaults point at each other', async () => {
  const worker = await parsed(workerCommand as CommandModule<object, never>, ['worker']);
  const gateway = await parsed(gatewayCommand as CommandModule<object, never>, ['gateway', '--framework', 'fastify']);
  const caller = await parsed(callerCommand as CommandModule<object, never>, ['caller', '--connections', '150']);
  assert.equal(gateway.worker, `${String(worker.host)}:${String(worker.port)}`, 'the gateway calls the worker');
  const url = new URL(String(caller.url));
  assert.equal(`${url.hostname}:${url.port}`, `${String(gateway.host)}:${String(gateway.port)}`, 'the caller calls the gateway');
  assert.equal(url.pathname, '/empty');
});

test('the three run together as written, only on free ports', async () => {
  const worker = await startWorkerProcess();
  const gateway = await startGatewayProcess('fastify', worker.address);
  try {
    const args = [CLI, 'caller', '--url', `${gateway.url}/empty`, '--connections', '150', '--requests', '300', '--warmup', '0s', '--json'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(guard);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as { requests: number; error_count: number; status_counts: Record<string, number> };
    assert.equal(result.requests, 300);
    assert.equal(result.error_count, 0);
    assert.deepEqual(result.status_counts, { 200: 300 });
  } finally {
    await gateway.stop();
    await worker.stop();
  }
});
