/**
 * The mistakes people make on a command line, through the real binary: each
 * is one line that names it (with the likely meaning where there is one),
 * a pointer to the command's own --help, and exit 2; a run that measures
 * nothing is exit 1. docs/commands.md, "Exit codes", lists them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { unusedPort } from './testing/http-servers.js';
import { runCli } from './testing/processes.js';

/** A refused command line: exit 2 and exactly these two stderr lines, nothing on stdout. */
async function refused(args: string[], error: string, help: string): Promise<void> {
  const r = await runCli(args, { timeoutMs: 60_000 });
  const what = `faasbench ${args.join(' ')}`;
  assert.equal(r.code, 2, `${what}: ${r.stderr}`);
  assert.equal(r.stderr, `faasbench: ${error}\nRun '${help} --help' for ${help === 'faasbench' && args[0] !== undefined && !args[0].startsWith('-') ? 'the commands' : 'usage'}.\n`, what);
  assert.equal(r.stdout, '', what);
}

test('a mistyped command: "Unknown command", the command it most likely meant, and the command list to read', async () => {
  await refused(['wroker'], 'Unknown command: wroker. Did you mean worker?', 'faasbench');
  await refused(['analyse', 'results'], 'Unknown command: analyse. Did you mean analyze?', 'faasbench');
  await refused(['deploy'], 'Unknown command: deploy.', 'faasbench');
});

test('terminal controls in what the command line echoes back are shown escaped, never sent to the terminal', async () => {
  // An OSC title sequence, a colour, a bell and a right-to-left override: each could rewrite what the user sees.
  const hostile = '\x1b]0;owned\x07\x1b[31mred\u202e';
  for (const args of [[`x${hostile}`], ['worker', '--isolation', hostile], ['caller', '--connections', hostile]]) {
    const r = await runCli(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, JSON.stringify(r.stderr));
    // Shown, escaped (by us as \x1b, or already by yargs as \u001b).
    assert.match(r.stderr, /\\(x1b|u001b)\]0;owned\\(x07|u0007)\\(x1b|u001b)\[31mred\\u202e/, JSON.stringify(r.stderr));
  }
});

test('a mistyped flag is named, with the flag meant, even where yargs would first miss a required one', async () => {
  await refused(['gateway', '--framwork', 'fastify'], 'Unknown option: --framwork. Did you mean --framework?', 'faasbench gateway');
  await refused(['caller', '--conections', '10'], 'Unknown option: --conections. Did you mean --connections?', 'faasbench caller');
  await refused(['worker', '--prot', '7071'], 'Unknown option: --prot. Did you mean --port?', 'faasbench worker');
  await refused(['analyze', 'results', '--resampels=500'], 'Unknown option: --resampels. Did you mean --resamples?', 'faasbench analyze');
  // An alias keeps its own name in the pointer; a flag like no other gets no guess.
  await refused(['rpc-worker', '--zzz'], 'Unknown option: --zzz.', 'faasbench rpc-worker');
  await refused(['--bogus'], 'Unknown option: --bogus.', 'faasbench');
});

test("other mistakes point at the command's own --help", async () => {
  await refused(['gateway'], 'Missing required argument: framework', 'faasbench gateway');
  await refused(['worker', '--port', '0x10'], '--port must be an integer from 0 to 65535, got "0x10"', 'faasbench worker');
  await refused(['analyze'], 'Name the records to analyse: got 0 directories or files, need at least 1 (e.g. results/<time>)', 'faasbench analyze');
});

test('faasbench alone lists the commands, once, and exits 0', async () => {
  const r = await runCli([], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const list = r.stdout.slice(r.stdout.indexOf('Commands:'), r.stdout.indexOf('Options:'));
  for (const name of ['run', 'gateway', 'worker', 'caller', 'analyze']) {
    assert.equal(list.match(new RegExp(`^  faasbench ${name}\\b`, 'gm'))?.length, 1, `${name} listed once`);
  }
  assert.match(r.stdout, /^Examples:$/m);
});

test('a caller aimed at a port nobody listens on fails before its warm-up: one line, exit 1', async () => {
  const port = await unusedPort();
  // A 1 h run: only failing before the load could end it within the guard (which kills it, and fails the test, otherwise).
  const r = await runCli(['caller', '--url', `http://127.0.0.1:${port}/empty`, '--duration', '1h'], { timeoutMs: 90_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `faasbench caller: cannot connect to 127.0.0.1:${port}: connection refused (tried for 1 s; is the server running?)\n`);
  assert.equal(r.stdout, '');
  // The same through `run` against a gateway that is not there.
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-unreachable-'));
  const config = join(dir, 'exp.json');
  writeFileSync(config, JSON.stringify({ frameworks: ['node'], ports: { gateway: await unusedPort() } }));
  const run = await runCli(['run', '--config', config, '--no-analyze', '--gateway-host', '127.0.0.1', '--out', join(dir, 'out')], { timeoutMs: 90_000 });
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr, /^faasbench run: cannot connect to 127\.0\.0\.1:\d+: connection refused/m);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
});
