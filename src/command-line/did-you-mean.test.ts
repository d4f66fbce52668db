import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, describeUnknownFlags, editDistance, unknownFlags } from './did-you-mean.js';

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('wroker', 'worker'), 1);
  assert.equal(editDistance('framwork', 'framework'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('caller', 'caller'), 0);
});

test('the closest name within a few edits, or the one name a prefix starts, or none', () => {
  const commands = ['run', 'gateway', 'worker', 'caller', 'analyze'];
  assert.equal(closest('wroker', commands), 'worker');
  assert.equal(closest('analyse', commands), 'analyze');
  assert.equal(closest('calller', commands), 'caller');
  assert.equal(closest('deploy', commands), null);
  assert.equal(closest('x', ['h', 'help']), null, 'one letter of two is not a guess');
  assert.equal(closest('conn', ['connections', 'timeout']), 'connections');
  assert.equal(closest('max', ['max-p50', 'max-p99']), null, 'a prefix of several names');
});

test('unknown flags: long, short, with =value, negated booleans known; values and what follows -- are not flags', () => {
  const options = {
    key: { framework: true, port: true, 'server-timing': true, header: true },
    alias: { header: ['H'] },
    boolean: ['server-timing'],
  };
  const args = ['--framwork', 'fastify', '--port=1', '--no-server-timing', '-H', 'a: b', '--prot=2', '-5', '-x', '--', '--later'];
  assert.deepEqual(unknownFlags(args, options), [
    { flag: '--framwork', suggestion: '--framework' },
    { flag: '--prot', suggestion: '--port' },
    { flag: '-x', suggestion: null },
  ]);
  assert.deepEqual(unknownFlags(['--serverTiming', '--help', '-h', '--version'], options), [], 'camel case and the built-in flags are known');
  assert.equal(describeUnknownFlags([{ flag: '--framwork', suggestion: '--framework' }]), 'Unknown option: --framwork. Did you mean --framework?');
  assert.equal(
    describeUnknownFlags([
      { flag: '--prot', suggestion: '--port' },
      { flag: '-x', suggestion: null },
    ]),
    'Unknown options: --prot (did you mean --port?), -x.',
  );
});
