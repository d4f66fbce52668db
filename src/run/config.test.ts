import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { ConfigError } from '../config-file.js';
import { DEFAULT_CONFIG, loadConfig, parseFront, planCells, validateConfig, type ExperimentConfig } from './config.js';
import { MIN_ROUNDS } from '../analysis/compute/rounds.js';

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
  assert.equal(cells.length, (7 + 3) * 5 * 3);
  assert.ok(cells.filter((x) => x.path.startsWith('/sleep')).every((x) => x.rate === 100));
});

test('frameworks interleave within a round: A B C D E, A B C D E', () => {
  const cells = planCells({ ...DEFAULT_CONFIG, endpoints: [{ path: '/empty' }], rounds: 2 });
  assert.deepEqual(
    cells.map((c) => `${c.round}${c.framework}`),
    ['1node', '1fastify', '1express', '1koa', '1hono', '2node', '2fastify', '2express', '2koa', '2hono'],
  );
  assert.ok(cells.every((c) => c.durationMs === 2000 && c.warmupMs === 500 && c.requests === null));
});

test('bad configs are refused with the key named, in one line', () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /^config: the top level must be .*, got \[\]$/],
    [{ frameworks: ['nginx'] }, /^config: frameworks\[0\] must be one of node, fastify, express, koa, hono, node\+gzip, .*, tcp, direct, got "nginx"$/],
    [{ frameworks: [] }, /^config: frameworks must be a non-empty list/],
    [{ endpoints: [{ path: '/etc/passwd' }] }, /^config: endpoints\[0\]\.path must start with one of \/empty, .*got "\/etc\/passwd"$/],
    [{ endpoints: [{ path: '/empty', conections: 3 }] }, /^config: endpoints\[0\] has an unknown key "conections" \(known: path, bytes, connections, duration, requests, rate\)$/],
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
    [{ arrival: 'bursty' }, /^config: arrival must be one of uniform, poisson, got "bursty"$/],
    [{ probe: { rate: 0 } }, /^config: probe\.rate must be a positive number/],
    [{ probe: { connections: 2 } }, /^config: probe\.rate is required$/],
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
  const fronts = FRAMEWORKS.flatMap((f) => [f, `${f}+gzip`, `${f}+br`]).concat('tcp', 'direct');
  assert.deepEqual([...schema.definitions.framework.enum].sort(), fronts.sort());
  assert.ok(schema.definitions.framework.enum.every((f) => parseFront(f) !== null), 'every front the schema allows parses');
  // The default config's keys, and the instance, composition and fleet experiments' optional ones, and the load model's.
  assert.deepEqual(Object.keys(schema.properties).sort(), [...Object.keys(DEFAULT_CONFIG), 'experiment', 'worker', 'backoff', 'interference', 'compose', 'scaling', 'failover', 'grey', 'arrival', 'seed', 'probe'].sort());
});

test('a payload size sweep makes one cell per size, and a +coding front is a framework that compresses', () => {
  const c = validateConfig({
    frameworks: ['node', 'fastify+gzip'],
    endpoints: [{ path: '/payload?format=raw', bytes: [1, 65536], connections: [1, 4] }],
    rounds: 1,
  });
  assert.deepEqual(parseFront('fastify+gzip'), { framework: 'fastify', compression: 'gzip' });
  assert.deepEqual(parseFront('hono'), { framework: 'hono', compression: 'none' });
  assert.equal(parseFront('hono+zstd'), null);
  assert.deepEqual(parseFront('tcp'), { framework: 'tcp', compression: 'none' });
  assert.deepEqual(parseFront('direct'), { framework: 'direct', compression: 'none' });
  assert.equal(parseFront('tcp+gzip'), null);
  assert.deepEqual(
    planCells(c).map((x) => `${x.framework} ${x.path} c=${x.connections}`),
    [
      'node /payload?format=raw&bytes=1 c=1',
      'fastify+gzip /payload?format=raw&bytes=1 c=1',
      'node /payload?format=raw&bytes=1 c=4',
      'fastify+gzip /payload?format=raw&bytes=1 c=4',
      'node /payload?format=raw&bytes=65536 c=1',
      'fastify+gzip /payload?format=raw&bytes=65536 c=1',
      'node /payload?format=raw&bytes=65536 c=4',
      'fastify+gzip /payload?format=raw&bytes=65536 c=4',
    ],
  );
  const bad: Array<[unknown, RegExp]> = [
    [{ frameworks: ['node+zstd'] }, /frameworks\[0\] must be one of .*, got "node\+zstd"/],
    [{ frameworks: ['tcp+gzip'] }, /frameworks\[0\] must be one of .*, got "tcp\+gzip"/],
    [{ endpoints: [{ path: '/empty', bytes: [1] }] }, /endpoints\[0\]\.bytes sweeps the size of \/payload/],
    [{ endpoints: [{ path: '/payload?bytes=3', bytes: [1] }] }, /endpoints\[0\]\.bytes sweeps/],
    [{ endpoints: [{ path: '/payload', bytes: [0] }] }, /endpoints\[0\]\.bytes\[0\] must be a size from 1 to 8388608 bytes, got 0/],
    [{ endpoints: [{ path: '/payload', bytes: [] }] }, /endpoints\[0\]\.bytes must be a non-empty list of \/payload sizes/],
  ];
  for (const [raw, message] of bad) assert.throws(() => validateConfig(raw), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(raw));
});

test('the seed and open-questions examples load', async () => {
  const seed = await loadConfig(new URL('seed-000.yaml', examples).pathname);
  assert.equal(seed.connections, 150);
  assert.ok(seed.endpoints.some((e) => e.path.startsWith('/image') && e.requests === 334));
  const open = await loadConfig(new URL('open-questions.yaml', examples).pathname);
  assert.ok(open.frameworks.includes('node+gzip') && open.frameworks.includes('node'));
  assert.ok(open.frameworks.includes('tcp') && open.frameworks.includes('direct'));
  assert.ok(planCells(open).some((x) => x.path === '/payload?format=raw&bytes=1048576'));
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

test('arrival, seed and probe pass through to the config; cells without a rate keep their closed loop', () => {
  const c = validateConfig({ rate: 200, arrival: 'poisson', seed: 3, probe: { rate: 10 }, endpoints: [{ path: '/empty' }, { path: '/sleep', rate: null }] });
  assert.equal(c.arrival, 'poisson');
  assert.equal(c.seed, 3);
  assert.deepEqual(c.probe, { rate: 10 });
  assert.deepEqual([...new Set(planCells(c).map((x) => `${x.path} ${x.rate}`))], ['/empty 200', '/sleep null']);
});

test('every shipped framework comparison runs at least MIN_ROUNDS rounds, so its report can judge the differences', async () => {
  const shipped = ['experiment.json', 'experiment.yaml', 'seed-000.yaml', 'open-questions.yaml'].map((f) => new URL(f, examples).pathname);
  shipped.push(new URL('../ansible/inventory/example/experiment.json', examples).pathname);
  const configs: [string, ExperimentConfig][] = [['the embedded default', DEFAULT_CONFIG]];
  for (const file of shipped) configs.push([file, await loadConfig(file)]);
  for (const [name, c] of configs) {
    if (c.frameworks.length < 2) continue;
    assert.ok(c.rounds >= MIN_ROUNDS, `${name}: rounds ${c.rounds} < ${MIN_ROUNDS}`);
  }
});
