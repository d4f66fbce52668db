/**
 * The Python client in docs/rpc-protocol.md ("A client in Python"), run as
 * written against the real worker binary: the protocol as another language
 * reads it. Needs python3 with msgpack (Debian's python3-msgpack, which
 * .ci/run installs): skipped without it, a failure under CI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startWorkerProcess } from './testing/processes.js';

const DOC = new URL('../../docs/rpc-protocol.md', import.meta.url);

/** A python3 that imports msgpack: the one on PATH, or Debian's own beside a pyenv one. */
function python(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import msgpack'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  if (process.env.CI) throw new Error('python3 with msgpack is missing (Debian package python3-msgpack; .ci/run installs it)');
  return null;
}

test('the documented Python client calls a worker and reads its body', async (t) => {
  const py = python();
  if (!py) return t.skip('python3 with msgpack is not installed (apt-get install python3-msgpack)');
  const doc = await readFile(DOC, 'utf8');
  const section = doc.slice(doc.indexOf('## A client in Python'));
  const code = /```python\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'the section has a python block');
  const dir = await mkdtemp(join(tmpdir(), 'fb-py-'));
  const worker = await startWorkerProcess(['--isolation', 'inline', '--secret', 'py-secret']);
  try {
    await writeFile(join(dir, 'client.py'), code);
    const run = spawnSync(py, [join(dir, 'client.py'), worker.address, 'py-secret'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^functions: .*\bmath\b/m);
    const answer = /^math: (\{.*\}) in \d+ µs$/m.exec(run.stdout)?.[1];
    assert.ok(answer, run.stdout);
    const { pi, n } = JSON.parse(answer) as { pi: number; n: number };
    assert.equal(n, 100_000);
    assert.ok(pi > 3 && pi < 3.3, `pi ${pi}`);
  } finally {
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
