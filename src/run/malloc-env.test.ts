/**
 * glibc reads GLIBC_TUNABLES only at a process's start, so a role cannot set
 * them for itself: `faasbench run` must pass the user's on to the roles it
 * starts (src/malloc.ts, MALLOC_TUNABLES, the opt-in). Read from the
 * environment of the worker and gateway the real binary started
 * (/proc/<pid>/environ), while they run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { CLI } from '../testing/processes.js';
import { MALLOC_TUNABLES } from '../malloc.js';

interface Started {
  role: string;
  env: Map<string, string>;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // gone meanwhile
  }
}

/**
 * A process's initial environment. glibc (2.36) parses GLIBC_TUNABLES in
 * place, writing a NUL over each ':' of the original string: what follows the
 * first tunable reads as entries of its own, which are put back here.
 */
function parseEnviron(environ: string): Map<string, string> {
  const env = new Map<string, string>();
  let last = '';
  for (const kv of environ.split('\0').filter(Boolean)) {
    if (last === 'GLIBC_TUNABLES' && kv.startsWith('glibc.')) {
      env.set(last, `${env.get(last)}:${kv}`);
      continue;
    }
    last = kv.slice(0, kv.indexOf('='));
    env.set(last, kv.slice(kv.indexOf('=') + 1));
  }
  return env;
}

/** The faasbench roles whose parent is `pid`, with their environment. */
function rolesOf(pid: number): Started[] {
  const found: Started[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // The parent pid is the 2nd field after the command name in parentheses.
    if (!stat || Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
    const argv = (read(`/proc/${entry}/cmdline`) ?? '').split('\0');
    const role = argv[argv.indexOf(CLI) + 1];
    const environ = read(`/proc/${entry}/environ`);
    if (argv.indexOf(CLI) < 0 || !role || environ === null) continue;
    found.push({ role, env: parseEnviron(environ) });
  }
  return found;
}

/** Starts `faasbench run` on a short config and returns the environments of its worker and gateway once both run; then stops it. */
async function rolesStartedBy(env: NodeJS.ProcessEnv): Promise<Started[]> {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-malloc-env-'));
  const config = join(dir, 'exp.json');
  writeFileSync(config, JSON.stringify({ frameworks: ['node'], endpoints: [{ path: '/empty' }], connections: 1, duration: '20s', warmup: '100ms', rounds: 1 }));
  const run = spawn(process.execPath, [CLI, 'run', '--config', config, '--out', join(dir, 'out')], {
    env: { ...env, FAASBENCH_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  run.stderr.on('data', (d) => (stderr += d));
  const exited = once(run, 'exit');
  try {
    const deadline = Date.now() + 90_000; // a hang guard only
    for (;;) {
      const roles = rolesOf(run.pid!);
      if (roles.some((r) => r.role === 'worker') && roles.some((r) => r.role === 'gateway')) return roles;
      if (run.exitCode !== null) throw new Error(`run exited before its roles were seen:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`no worker and gateway under run:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    run.kill('SIGINT');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
}

function without(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const n of names) delete copy[n];
  return copy;
}

const MALLOC_VARS = ['GLIBC_TUNABLES', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_', 'MALLOC_ARENA_MAX'];

test('run passes a user\'s GLIBC_TUNABLES to its worker and gateway unchanged, and adds none of its own', { timeout: 240_000 }, async () => {
  const roles = await rolesStartedBy({ ...without(process.env, ...MALLOC_VARS), GLIBC_TUNABLES: MALLOC_TUNABLES });
  assert.deepEqual(roles.map((r) => r.role).sort(), ['gateway', 'worker']);
  for (const r of roles) assert.equal(r.env.get('GLIBC_TUNABLES'), MALLOC_TUNABLES, r.role);
  for (const r of await rolesStartedBy(without(process.env, ...MALLOC_VARS))) assert.equal(r.env.get('GLIBC_TUNABLES'), undefined, r.role);
});
