import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, loadConfig, planCells, validateConfig } from './config.js';

const examples = new URL('../../../examples/', import.meta.url);

test('examples/experiment.json is the embedded default, written out', async () => {
  const file = JSON.parse(await readFile(new URL('experiment.json', examples), 'utf8')) as unknown;
  assert.deepEqual(validateConfig(file), DEFAULT_CONFIG);
});

test('the YAML example loads, with its per-endpoint overrides', async () => {
  const c = await loadConfig(new URL('experiment.yaml', examples).pathname);
  assert.deepEqual(c.endpoints[0]!.connections, [1, 10, 50, 100, 150, 200, 300]);
  assert.equal(c.endpoints[1]!.rate, 100);
  const cells = planCells(c);
  // 7 sweep counts + 3 single cells per framework, per round.
  assert.equal(cells.length, (7 + 3) * 5 * 2);
  assert.ok(cells.filter((x) => x.path.startsWith('/sleep')).every((x) => x.rate === 100));
});

test('frameworks interleave within a round: A B C D E, A B C D E', () => {
  const cells = planCells({ ...DEFAULT_CONFIG, endpoints: [{ path: '/empty' }], rounds: 2 });
  assert.deepEqual(
    cells.map((c) => `${c.round}${c.framework}`),
    ['1node', '1fastify', '1express', '1koa', '1hono', '2node', '2fastify', '2express', '2koa', '2hono'],
  );
  assert.ok(cells.every((c) => c.durationMs === 3000 && c.warmupMs === 1000 && c.requests === null));
});

test('bad configs are refused with the field named', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /must be an object/],
    [{ frameworks: ['nginx'] }, /frameworks has unknown "nginx"/],
    [{ endpoints: [{ path: '/etc/passwd' }] }, /endpoints\[0\]\.path must start with/],
    [{ endpoints: [{ path: '/empty', conections: 3 }] }, /unknown field "conections"/],
    [{ connections: 0 }, /connections must be a count/],
    [{ duration: 'forever' }, /duration must be a duration/],
    [{ rounds: 1.5 }, /rounds must be an integer/],
    [{ rate: -1 }, /rate must be a positive number/],
    [{ ports: { gateway: 65534 } }, /ports.gateway must be a port/],
    [{ colour: 'blue' }, /unknown field "colour"/],
  ];
  for (const [raw, message] of bad) assert.throws(() => validateConfig(raw), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(raw));
});

test('the instance experiments load from their shipped configs; a bad one is named', async () => {
  for (const [file, experiment] of [['concurrency.yaml', 'concurrency'], ['backoff.yaml', 'backoff'], ['interference.yaml', 'interference']]) {
    const c = await loadConfig(new URL(file!, examples).pathname);
    assert.equal(c.experiment, experiment);
    assert.ok(c.worker?.includes('--isolation'), `${file} says where functions run`);
  }
  assert.throws(() => validateConfig({ experiment: 'backoff' }), /backoff\.gaps must be a non-empty list/);
  assert.throws(() => validateConfig({ experiment: 'interference', interference: { faults: ['panic'], phase: '1s' } }), /interference\.faults/);
  assert.throws(() => validateConfig({ experiment: 'soak' }), /experiment must be one of/);
});
