/**
 * The benchmark scripts' flags: a bad one is refused with one line and the
 * usage, exit 2, before any work starts; --help prints the usage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { integerFlag, listFlag } from './script-args.js';

const failWith = (message: string): never => {
  throw new Error(message);
};

test('integerFlag: decimal digits within the range', () => {
  assert.equal(integerFlag('rounds', '7', 1, 10, failWith), 7);
  for (const bad of ['0', '11', '1.5', '1e1', '', '-1', '0x5']) {
    assert.throws(() => integerFlag('rounds', bad, 1, 10, failWith), /--rounds must be an integer from 1 to 10/, bad);
  }
});

test('listFlag: every item known, at least one', () => {
  assert.deepEqual(listFlag('only', 'rpc, gateway', ['rpc', 'gateway', 'startup'], failWith), ['rpc', 'gateway']);
  assert.throws(() => listFlag('only', 'rpc,gatway', ['rpc', 'gateway'], failWith), /--only takes a comma-separated list of rpc, gateway; got "rpc,gatway"/);
  assert.throws(() => listFlag('only', ',', ['rpc'], failWith), /--only takes/);
});

test('npm run bench, bench:caller and bench:analysis: bad flags are one line and exit 2; --help exits 0', () => {
  const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  const cases: Array<[string, string[], RegExp]> = [
    ['index', ['--rounds', '0'], /^bench: --rounds must be an integer from 1 to 1000, got "0"$/],
    ['index', ['--only', 'rpcx'], /^bench: --only takes a comma-separated list of rpc, gateway/],
    ['index', ['--frameworks', 'nod'], /^bench: --frameworks takes a comma-separated list of node, fastify/],
    ['index', ['--bogus'], /^bench: Unknown option '--bogus'/],
    ['index', ['--connections', '0'], /^bench: --connections must be an integer from 1 to 1000, got "0"$/],
    ['caller-bench', ['--seconds', '1.5'], /^bench:caller: --seconds must be an integer/],
    ['analysis-bench', ['--requests', '12'], /^bench:analysis: --requests must be an integer from 1000/],
    ['analysis-bench', ['--bogus'], /^bench:analysis: Unknown option '--bogus'/],
  ];
  for (const [name, args, message] of cases) {
    const r = spawnSync(process.execPath, [script(name), ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `${name} ${args.join(' ')}: ${r.stderr}`);
    const [first, usage] = r.stderr.split('\n');
    assert.match(first!, message);
    assert.match(usage!, /^usage: npm run /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  for (const name of ['index', 'caller-bench', 'analysis-bench']) {
    const r = spawnSync(process.execPath, [script(name), '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, /^usage: npm run bench/);
  }
});
