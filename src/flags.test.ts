/**
 * Every numeric flag of every command is read strictly and within the range
 * the program can honour, and startup failures the user caused are one line
 * and exit 2: through the real binary, as a user meets them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseIntegerFlag } from './flags.js';
import { runCli, startWorkerProcess } from './testing/processes.js';

const URL_ARGS = ['caller', '--url', 'http://127.0.0.1:9/empty'];

/** Runs each case (a few at a time: each is a node start-up) and checks it is refused with one line and exit 2. */
async function refusedAll(cases: Array<[string[], RegExp]>): Promise<void> {
  const queue = [...cases];
  const failures: string[] = [];
  const run = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [args, message] = c;
      // An empty secret is none: a worker beyond loopback must be refused whatever the test's environment.
      const r = await runCli(args, { timeoutMs: 60_000, env: { ...process.env, FAASBENCH_SECRET: '' } });
      const first = r.stderr.split('\n')[0] ?? '';
      if (r.code !== 2 || !/^faasbench: /.test(first) || !message.test(first) || /\n\s+at /.test(r.stderr)) {
        failures.push(`faasbench ${args.join(' ')}: exit ${r.code}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`);
      }
    }
  };
  await Promise.all([run(), run(), run()]);
  assert.deepEqual(failures, []);
}

test('integer flags: decimal digits only, within the range', () => {
  assert.equal(parseIntegerFlag('port', '8080', { min: 0, max: 65535 }), 8080);
  assert.equal(parseIntegerFlag('port', 8080, { min: 0, max: 65535 }), 8080);
  for (const bad of ['0x50', '', ' ', '1e3', '-1', '1.5', '65536', 'abc', '99999999999999999999']) {
    assert.throws(() => parseIntegerFlag('port', bad, { min: 0, max: 65535 }), /--port must be an integer from 0 to 65535/, bad);
  }
  assert.throws(() => parseIntegerFlag('port', ['1', '2'], { min: 0, max: 65535 }), /given more than once/);
});

test('bad duration and count values of every command: one line, exit 2', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-flags-'));
  await refusedAll([
    [['worker', '--port', '0x50'], /--port must be an integer from 0 to 65535, got "0x50"/],
    [['worker', '--port', ''], /--port must be/],
    [['worker', '--port', '1', '--port', '2'], /--port is given more than once/],
    [['worker', '--hello-timeout-ms', 'abc'], /--hello-timeout-ms must be an integer from 1 to 2147483647/],
    [['worker', '--hello-timeout-ms', '-1'], /--hello-timeout-ms must be/],
    [['worker', '--hello-timeout-ms', '0'], /--hello-timeout-ms must be/],
    [['worker', '--hello-timeout-ms', '3e9'], /--hello-timeout-ms must be/],
    [['worker', '--timeout-ms', '2147483648'], /--timeout-ms must be an integer from 1 to 2147483647/],
    [['worker', '--function-memory-mb', '8'], /--function-memory-mb must be an integer from 16/],
    [['gateway', '--framework', 'node', '--port', '0x50'], /--port must be/],
    [['gateway', '--framework', 'node', '--timeout-ms', '2147483648'], /--timeout-ms must be an integer from 1 to 2147483647/],
    [['gateway', '--framework', 'node', '--worker-connections', '100000'], /--worker-connections must be an integer from 1 to 64/],
    [['gateway', '--framework', 'node', '--worker', 'http://127.0.0.1:7070'], /worker address must be HOST:PORT \(no scheme/],
    [['gateway', '--framework', 'node', '--worker', '127.0.0.1:0x50'], /worker address must be HOST:PORT/],
    [[...URL_ARGS, '--requests', '1e3'], /--requests must be an integer from 1/],
    [['caller', '--url'], /--url needs a URL/],
    [['caller', '--url', ''], /--url needs a URL/],
    [[...URL_ARGS, '--timeout', '30d'], /--timeout must be a duration/],
    [[...URL_ARGS, '--timeout', '600h'], /--timeout must be from .* ms to 2147483647 ms/],
    [[...URL_ARGS, '--duration', '0'], /--duration must be from/],
    [[...URL_ARGS, '--rate', '1e9'], /--rate must be a number of requests per second above 0 and at most 1000000/],
    [['analyze', dir, '--resamples', '1e9'], /--resamples must be an integer from 100 to 100000/],
    [['analyze', dir, '--resamples', '1000000000'], /--resamples must be an integer from 100 to 100000/],
  ]);
});

test('a worker beyond loopback without a secret, and startup failures: one line, exit 2', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-startup-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  const taken = await startWorkerProcess();
  try {
    const port = taken.address.split(':').pop()!;
    await refusedAll([
      [['worker', '--host', '0.0.0.0', '--port', '0'], /refusing to listen on 0\.0\.0\.0 without a secret.*--insecure-no-secret/],
      [['worker', '--port', port], /cannot start the worker: .*EADDRINUSE/],
      [['gateway', '--framework', 'node', '--port', port], /cannot start the gateway: .*EADDRINUSE/],
      [['gateway', '--framework', 'node', '--host', 'no-such-host.invalid', '--port', '0'], /cannot start the gateway: getaddrinfo/],
      [['worker', '--host', 'no-such-host.invalid', '--port', '0'], /cannot resolve --host no-such-host\.invalid/],
      [['gateway', '--framework', 'node', '--port', '0', '--log', join(file, 'gw.ndjson')], /cannot start the gateway: cannot open the record file .*gw\.ndjson: (ENOTDIR|EEXIST)/],
      [['worker', '--port', '0', '--log', join(file, 'w.ndjson')], /cannot start the worker: cannot open the record file .*w\.ndjson: (ENOTDIR|EEXIST)/],
      [['worker', '--port', '0', '--functions', join(dir, 'missing')], /cannot read the functions directory/],
    ]);
  } finally {
    await taken.stop();
  }
});
