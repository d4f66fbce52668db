/**
 * The first three commands people type find each other with no address
 * flags: the defaults agree (read from the commands themselves), and the
 * three run together as written, on free ports instead of the defaults.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import yargs, { type CommandModule } from 'yargs';
import { callerCommand } from './caller/command.js';
import { DEFAULT_CALLER_URL, DEFAULT_WORKER } from './contract/addresses.js';
import { gatewayCommand } from './gateway/command.js';
import { CLI, runCli, startGatewayProcess, startWorkerProcess } from './testing/processes.js';
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
  // The gateway's default worker is applied by its handler (none with --workers-file): none is parsed.
  assert.equal(gateway.worker, undefined);
  assert.equal(DEFAULT_WORKER, `${String(worker.host)}:${String(worker.port)}`, 'the gateway calls the worker');
  // The caller's default URL is applied by its handler (a bare --url is refused): none is parsed.
  assert.equal(caller.url, undefined);
  const url = new URL(DEFAULT_CALLER_URL);
  assert.equal(`${url.hostname}:${url.port}`, `${String(gateway.host)}:${String(gateway.port)}`, 'the caller calls the gateway');
  assert.equal(url.pathname, '/empty');
});

test('--help: the top level lists every command; each command, alias included, shows its own usage, options and examples', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['run', 'gateway', 'worker', 'caller', 'analyze']) assert.match(top.stdout, new RegExp(`^  faasbench ${name}\\b`, 'm'));
  const cases: Array<[string[], string, RegExp]> = [
    [['gateway', '--help'], 'faasbench gateway', /--framework/],
    [['worker', '--help'], 'faasbench worker', /--isolation/],
    [['rpc-worker', '--help'], 'faasbench worker', /--isolation/],
    [['caller', '--help'], 'faasbench caller', /--connections/],
    [['analyze', '--help'], 'faasbench analyze <dirs..>', /--resamples/],
    [['run', '--help'], 'faasbench run', /--quick/],
    [['--help', 'caller'], 'faasbench caller', /--connections/],
    [['-h', 'run'], 'faasbench run', /--quick/],
  ];
  for (const [args, usage, option] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.split('\n')[0], usage);
    assert.match(r.stdout, option);
    // Each example is a command line a user can paste: the command named once,
    // on a line of its own after a comment saying what it does.
    const lines = r.stdout.split('Examples:\n')[1]?.split('\n') ?? [];
    const examples = lines.filter((l) => /^  faasbench /.test(l));
    const name = usage.split(' ')[1]!;
    for (const line of examples) assert.match(line, new RegExp(`^  faasbench ${name}( (?!${name}\\b)|$)`), line);
    for (const line of lines.filter((l) => l.trim() !== '')) assert.match(line, /^  (# |faasbench )/, `${name}: an example line is a comment or a command: ${line}`);
    assert.ok(examples.length >= 2, `${name} shows its examples`);
  }
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

test('--help types the integer flags as numbers, lists a required flag first, and gives no default to what is required', async () => {
  const worker = await runCli(['worker', '--help']);
  for (const flag of ['port', 'timeout-ms', 'max-instances', 'metrics-port']) {
    assert.match(worker.stdout, new RegExp(`--${flag}\\b[^]*?\\[number\\]`), `--${flag} is a number`);
  }
  assert.doesNotMatch(worker.stdout, /--port\s[^-]*\[string\]/, 'not a string');
  const gateway = await runCli(['gateway', '--help']);
  const options = [...gateway.stdout.matchAll(/^\s+(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]).filter((o) => o !== 'version' && o !== 'help');
  assert.equal(options[0], 'framework', 'the one required flag first');
  const analyze = await runCli(['analyze', '--help']);
  assert.doesNotMatch(analyze.stdout, /\[default: \[\]\]/);
  assert.match(analyze.stdout, /^  dirs\s.*\n.*\[array\] \[required\]$/m);
});

test("package.json's bin runs as a program, as `npx faasbench` runs it (after the build)", async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
  const bin = fileURLToPath(new URL(`../../${pkg.bin.faasbench}`, import.meta.url));
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `${bin}: ${r.error?.message}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});
