/**
 * Processes a function spawns die with its call, at its time limit, and with
 * the worker, in all three isolation modes (issue 30, finding 12), with the
 * real binary. A child, a detached child and a grandchild are each followed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startWorkerProcess, waitFor } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;
let fnDir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-children-'));
  fnDir = join(dir, 'functions');
  await mkdir(fnDir);
  // Spawns a child, a detached child, and a shell whose background grandchild
  // it does not wait for; writes every pid to args.pids; then answers, or waits forever.
  await writeFile(
    join(fnDir, 'spawner.mjs'),
    `import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
export default {
  async run(args) {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    const detached = spawn('sleep', ['301'], { stdio: 'ignore', detached: true });
    const shell = spawn('sh', ['-c', 'sleep 302 & echo $! >> "$0"; wait', args.pids], { stdio: 'ignore' });
    appendFileSync(args.pids, [child.pid, detached.pid, shell.pid].join('\\n') + '\\n');
    await new Promise((r) => setTimeout(r, 300)); // the grandchild's pid is written
    if (args.hang) await new Promise(() => {});
    return { pids: [child.pid, detached.pid, shell.pid] };
  },
};
`,
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Alive: its /proc entry is there and not a zombie. */
function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!);
  } catch {
    return false;
  }
}

async function pidsOf(file: string): Promise<number[]> {
  await waitFor(async () => existsSync(file) && (await readFile(file, 'utf8')).trim().split('\n').length >= 4, 20_000, 'four pids written');
  return (await readFile(file, 'utf8')).trim().split('\n').map(Number);
}

/** The pids die; on failure, they are killed here so that the test leaves nothing behind. */
async function allDie(pids: number[], what: string): Promise<void> {
  try {
    await waitFor(() => pids.every((p) => !alive(p)), 20_000, `${what}: every process gone (alive: ${pids.filter(alive).join(', ')})`);
  } finally {
    for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
  }
}

for (const isolation of ['thread', 'process', 'inline']) {
  test(`--isolation ${isolation}: a function's processes end with its call, at its time limit, and with the worker`, async () => {
    const worker = await startWorkerProcess(['--functions', fnDir, '--isolation', isolation, '--timeout-ms', '3000']);
    try {
      const rpc = await rawRpc(worker.address);
      // 1. The call answers: what it spawned is gone.
      const done = join(dir, `${isolation}-done`);
      const [reply] = await rpc.burst([{ fn: 'spawner', args: { pids: done } }]);
      assert.equal(reply!.err, undefined, JSON.stringify(reply!.err));
      await allDie(await pidsOf(done), 'after the call');
      // 2. The call runs past its limit: the same.
      const late = join(dir, `${isolation}-late`);
      const [timedOut] = await rpc.burst([{ fn: 'spawner', args: { pids: late, hang: true } }]);
      assert.equal(timedOut!.err?.code, 'function_timeout');
      await allDie(await pidsOf(late), 'after the time limit');
      // 3. The worker stops while a call runs: the same.
      const stopped = join(dir, `${isolation}-stopped`);
      void rpc.burst([{ fn: 'spawner', args: { pids: stopped, hang: true } }]).catch(() => {});
      const pids = await pidsOf(stopped);
      rpc.close();
      await worker.stop();
      await allDie(pids, 'after the worker stopped');
    } finally {
      await worker.stop();
    }
  });
}
