import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, loadConfig, parseFront, planCells, validateConfig } from './config.js';

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
    [{ frameworks: ['node+zstd'] }, /frameworks has unknown "node\+zstd"/],
    [{ frameworks: ['tcp+gzip'] }, /frameworks has unknown "tcp\+gzip"/],
    [{ endpoints: [{ path: '/empty', bytes: [1] }] }, /endpoints\[0\]\.bytes sweeps the size of \/payload/],
    [{ endpoints: [{ path: '/payload?bytes=3', bytes: [1] }] }, /endpoints\[0\]\.bytes sweeps/],
    [{ endpoints: [{ path: '/payload', bytes: [0] }] }, /endpoints\[0\]\.bytes must be a list of sizes from 1 to 8388608/],
    [{ endpoints: [{ path: '/payload', bytes: [] }] }, /endpoints\[0\]\.bytes must be a list/],
  ];
  for (const [raw, message] of bad) assert.throws(() => validateConfig(raw), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(raw));
});

test('the seed and open-questions examples load', async () => {
  const seed = await loadConfig(new URL('seed-000.yaml', examples).pathname);
  assert.equal(seed.connections, 150);
  assert.ok(seed.endpoints.some((e) => e.path.startsWith('/image') && e.requests === 1000));
  const open = await loadConfig(new URL('open-questions.yaml', examples).pathname);
  assert.ok(open.frameworks.includes('node+gzip') && open.frameworks.includes('node'));
  assert.ok(open.frameworks.includes('tcp') && open.frameworks.includes('direct'));
  assert.ok(planCells(open).some((x) => x.path === '/payload?format=raw&bytes=1048576'));
});
