import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
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

test('bad configs are refused with the key named, in one line', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /^config: the top level must be .*, got \[\]$/],
    [{ frameworks: ['nginx'] }, /^config: frameworks\[0\] must be one of node, fastify, express, koa, hono, got "nginx"$/],
    [{ frameworks: [] }, /^config: frameworks must be a non-empty list/],
    [{ endpoints: [{ path: '/etc/passwd' }] }, /^config: endpoints\[0\]\.path must start with one of \/empty, .*got "\/etc\/passwd"$/],
    [{ endpoints: [{ path: '/empty', conections: 3 }] }, /^config: endpoints\[0\] has an unknown key "conections" \(known: path, connections, duration, requests, rate\)$/],
    [{ endpoints: [{ rate: 5 }] }, /^config: endpoints\[0\]\.path is required$/],
    [{ endpoints: [{ path: '/empty', rate: -1 }] }, /^config: endpoints\[0\]\.rate must be a positive number .*, got -1$/],
    [{ connections: 0 }, /^config: connections must be a count from 1 to 10000 or a non-empty list of them.*, got 0$/],
    [{ connections: [1, 10, 100_000] }, /^config: connections must be a count .*, got \[1,10,100000\]$/],
    [{ duration: 'forever' }, /^config: duration must be a duration such as "10s".*, got "forever"$/],
    [{ rounds: 1.5 }, /^config: rounds must be an integer from 1 to 1000.*, got 1\.5$/],
    [{ rate: -1 }, /^config: rate must be a positive number/],
    [{ ports: { gateway: 65534 } }, /^config: ports\.gateway must leave a port for each of the 5 frameworks/],
    [{ ports: { gateway: 'x' } }, /^config: ports\.gateway must be a port number from 1 to 65535, got "x"$/],
    [{ pinning: 'all' }, /^config: pinning must be one of auto, none, got "all"$/],
    [{ colour: 'blue' }, /^config: the top level has an unknown key "colour" \(known: frameworks, endpoints, /],
  ];
  for (const [raw, message] of bad) {
    assert.throws(() => validateConfig(raw), (e: Error) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('\n'), JSON.stringify(raw));
  }
});

test('the published schema knows the frameworks and every key of the default config', async () => {
  const schema = JSON.parse(await readFile(new URL('../../schemas/config.schema.json', import.meta.url), 'utf8')) as {
    properties: Record<string, unknown>;
    definitions: { framework: { enum: string[] } };
  };
  assert.deepEqual(schema.definitions.framework.enum, [...FRAMEWORKS]);
  assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(DEFAULT_CONFIG).sort());
});
