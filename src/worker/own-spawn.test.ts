/**
 * The worker's own children survive its spawn hook (issue 28's rehearsal):
 * under `--isolation inline` a child that no running call owns is killed at
 * once, and the kernel tracer (bpftrace, mount) is spawned by the worker
 * while no call runs. ownSpawn marks such a spawn as the role's own. The hook
 * patches this process for good: the real worker's test is kernel-inline.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { ownSpawn } from '../own-spawn.js';
import { ChildTracker } from './children.js';

/** How the child ended: its signal, or its exit code. */
async function ending(child: ChildProcess): Promise<string> {
  const [code, signal] = (child.exitCode !== null || child.signalCode !== null ? [child.exitCode, child.signalCode] : await once(child, 'exit')) as [
    number | null,
    string | null,
  ];
  return signal ?? `exit ${code}`;
}

test('with the hook of an inline worker, a child of no call is killed at once, and one spawned through ownSpawn is left alone', async () => {
  // This process stands in for the worker's thread: the hook stays for the rest of this file.
  new ChildTracker('kill').hook();
  const stray = spawn('sleep', ['60'], { stdio: 'ignore' });
  assert.equal(await ending(stray), 'SIGKILL', 'a child spawned while no call runs is killed by the hook');
  const own = ownSpawn(() => spawn('sleep', ['60'], { stdio: 'ignore' }));
  const ended = ending(own);
  // Only our SIGTERM ends it: had the hook killed it, it would have ended by SIGKILL already.
  own.kill('SIGTERM');
  assert.equal(await ended, 'SIGTERM');
  // The mark ends with the spawn, also when it throws.
  assert.throws(() => ownSpawn(() => { throw new Error('no spawn'); }), /no spawn/);
  const after = spawn('sleep', ['60'], { stdio: 'ignore' });
  assert.equal(await ending(after), 'SIGKILL', 'later spawns are tracked again');
});
