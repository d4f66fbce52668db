/**
 * Every help text fits an 80-column terminal when piped (no TTY, so no
 * terminal width to wrap to): the top level, and each command cli.ts
 * registers, found in the top-level help so that a new command is checked
 * without touching this test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './testing/processes.js';

const COLUMNS = 80;

/** What is too wide in `text`: how many lines, and the widest, or nothing when every line fits. */
function tooWide(text: string): string[] {
  const wide = text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1, width: [...line].length }))
    .filter(({ width }) => width > COLUMNS);
  if (wide.length === 0) return [];
  const widest = wide.reduce((a, b) => (b.width > a.width ? b : a));
  return [`${wide.length} line(s) over ${COLUMNS} columns, widest line ${widest.n} (${widest.width}): ${widest.line.trimEnd()}`];
}

test(`every command's --help fits ${COLUMNS} columns`, async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0, top.stderr);
  const commands = [...top.stdout.matchAll(/^\s+faasbench (\S+)/gm)].map((m) => m[1]!);
  const aliases = [...top.stdout.matchAll(/\[aliases: ([^\]]+)\]/g)].flatMap((m) => m[1]!.split(/,\s*/));
  for (const known of ['worker', 'gateway', 'caller', 'analyze', 'run']) assert.ok(commands.includes(known), `the top-level help lists ${known}`);
  const wide = tooWide(top.stdout).map((l) => `faasbench --help: ${l}`);
  // The examples name commands too: each once.
  for (const command of new Set([...commands, ...aliases])) {
    const help = await runCli([command, '--help']);
    assert.equal(help.code, 0, `${command} --help: ${help.stderr}`);
    wide.push(...tooWide(help.stdout).map((l) => `faasbench ${command} --help: ${l}`));
  }
  assert.deepEqual(wide, []);
});
