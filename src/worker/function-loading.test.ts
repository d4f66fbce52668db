/**
 * `--functions DIR` that does not load (issue 30, finding 11), with the real
 * binary: every failure is one line naming the file, and exit 2; a module's
 * own code runs where its calls will, not in the worker's process.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startWorkerProcess } from '../testing/processes.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-loading-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A functions directory holding `files`. */
async function functions(name: string, files: Record<string, string>): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(d, file), text);
  return d;
}

const good = 'export default { run() { return {}; } };\n';

/** Starts a worker on `fnDir` that must refuse to start: its exit and its one line. */
async function refused(fnDir: string, extra: string[] = []) {
  const r = await runCli(['worker', '--port', '0', '--functions', fnDir, ...extra], { timeoutMs: 60_000 });
  const lines = r.stderr.trim().split('\n');
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace: ${r.stderr}`);
  return lines[0]!;
}

for (const isolation of ['thread', 'process', 'inline']) {
  test(`a module that throws, has a syntax error or never finishes loading: one line, exit 2 (--isolation ${isolation})`, async () => {
    const throws = await functions(`throws-${isolation}`, { 'ok.mjs': good, 'broken.mjs': 'const x = 1;\nthrow new Error("no database here");\nexport default {};\n' });
    assert.match(await refused(throws, ['--isolation', isolation]), /function module broken\.mjs failed to load: no database here \(line 2\)/);
    const syntax = await functions(`syntax-${isolation}`, { 'bad.mjs': 'export default {\n  run() {\n    return 1 2;\n  },\n};\n' });
    assert.match(await refused(syntax, ['--isolation', isolation]), /function module bad\.mjs failed to load: SyntaxError: Unexpected number at line 3: return 1 2;/);
    const hangs = await functions(`hangs-${isolation}`, { 'slow.mjs': `await new Promise(() => {});\n${good}` });
    assert.match(await refused(hangs, ['--isolation', isolation, '--timeout-ms', '1500']), /function module slow\.mjs did not finish loading(: a top-level await| within 1500 ms)/);
    const shape = await functions(`shape-${isolation}`, { 'noop.mjs': 'export default { mode: "fast", run() {} };\n' });
    assert.match(await refused(shape, ['--isolation', isolation]), /function module noop\.mjs has a mode that is neither 'inline' nor 'pool'/);
  });
}

test('a module that is a link to a file outside the directory is refused', async () => {
  const outside = await functions('outside', { 'secret.mjs': good });
  const d = await functions('linked', { 'ok.mjs': good });
  await symlink(join(outside, 'secret.mjs'), join(d, 'secret.mjs'));
  assert.match(await refused(d), /function module secret\.mjs is a link to .*outside the functions directory/);
});

test('under --isolation process a module\'s own code never runs in the worker\'s process', async () => {
  const marks = join(dir, 'marks');
  const d = await functions('where', {
    'where.mjs': `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marks)}, process.pid + '\\n');\nexport default { run() { return { pid: process.pid }; } };\n`,
  });
  const worker = await startWorkerProcess(['--functions', d, '--isolation', 'process']);
  try {
    const rpc = await rawRpc(worker.address);
    const [reply] = await rpc.burst([{ fn: 'where' }]);
    rpc.close();
    const ran = (reply!.result as { pid: number }).pid;
    assert.notEqual(ran, worker.proc.pid);
    const pids = (await readFile(marks, 'utf8')).trim().split('\n').map(Number);
    assert.ok(pids.length >= 2, 'loaded once to be checked and once in its instance');
    assert.ok(!pids.includes(worker.proc.pid!), `top-level code ran in the worker's process: ${pids.join(', ')} vs ${worker.proc.pid}`);
  } finally {
    await worker.stop();
  }
});
