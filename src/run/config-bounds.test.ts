/**
 * `faasbench run --config` refuses what it cannot run (issue 30, finding 15),
 * with the real binary: one line naming the key, exit 2, nothing started.
 * And two flags' messages that once named the wrong thing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../testing/processes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-config-bounds-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refused(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  const r = await runCli(['run', '--config', file, '--out', join(dir, `out-${name}`)], { timeoutMs: 60_000 });
  assert.equal(r.code, 2, `${name}: exit ${r.code}: ${r.stderr}`);
  assert.ok(!/^\s+at /m.test(r.stderr), `${name}: no stack trace: ${r.stderr}`);
  assert.ok(!/worker listening|expected size/.test(r.stderr), `${name}: nothing started: ${r.stderr}`);
  return r.stderr.trim();
}

const endpoint = '"endpoints": [{ "path": "/empty", "requests": 10 }]';

test('finding 15: a rate above the caller\'s 1e6, a worker flag the run sets itself, and a framework twice are refused', async () => {
  assert.match(await refused('rate.json', `{ "frameworks": ["node"], ${endpoint}, "rate": 5e6 }`), /rate must be a positive number of requests per second up to 1000000 .*got 5000000/);
  assert.match(await refused('rate300.json', `{ "frameworks": ["node"], ${endpoint}, "rate": 1e300 }`), /rate must be .* up to 1000000 .*got 1e\+300/);
  assert.match(
    await refused('endpoint-rate.json', '{ "frameworks": ["node"], "endpoints": [{ "path": "/empty", "rate": 2000000 }] }'),
    /endpoints\[0\]\.rate must be .* up to 1000000/,
  );
  assert.match(await refused('port.json', `{ "frameworks": ["node"], ${endpoint}, "worker": ["--isolation", "thread", "--port", "9000"] }`), /worker\[2\] is --port, which the run sets itself/);
  assert.match(await refused('log.json', `{ "frameworks": ["node"], ${endpoint}, "worker": ["--log=/tmp/x"] }`), /worker\[0\] is --log, which the run sets itself/);
  assert.match(await refused('twice.json', `{ "frameworks": ["node", "fastify", "node"], ${endpoint} }`), /frameworks\[2\] repeats "node" \(frameworks\[0\]\)/);
});

test('a duration of 1e309 (Infinity in YAML) is named as such, not as null', async () => {
  assert.match(await refused('inf.yaml', 'frameworks: [node]\nendpoints: [{ path: /empty }]\nduration: 1e309\n'), /duration must be .*, got Infinity/);
});

test('--keep-warm -1s is refused as a duration, not as unknown flags', async () => {
  const r = await runCli(['worker', '--port', '0', '--keep-warm', '-1s'], { timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--keep-warm must be a duration such as 10s, 500ms or 2m, got "-1s"/);
  assert.doesNotMatch(r.stderr, /Unknown argument/);
});
