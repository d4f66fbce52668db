/**
 * Records that cannot be written (a full disk) are reported while running and
 * at exit, make the role exit with status 1, and never leave a torn line; the
 * analysis names a file that ends mid-line. Through the real binaries.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startHttpServer } from '../testing/http-servers.js';
import { runCli, startGatewayProcess, startWorkerProcess } from '../testing/processes.js';

const isRoot = process.getuid?.() === 0;

/** Every line of a record file is whole JSON, and the file ends with a newline (or is empty). */
function assertWholeLines(file: string): number {
  const text = readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${file} ends mid-line: ${JSON.stringify(text.slice(-80))}`);
  const lines = text.split('\n').filter((l) => l.length > 0);
  for (const l of lines) JSON.parse(l);
  return lines.length;
}

test('on /dev/full the caller and the gateway report every lost record and exit with status 1', { timeout: 120_000 }, async () => {
  const worker = await startWorkerProcess();
  const gateway = await startGatewayProcess('node', worker.address, ['--log', '/dev/full']);
  try {
    const caller = await runCli(['caller', '--url', `${gateway.url}/empty`, '--requests', '300', '--connections', '4', '--warmup', '0', '--out', '/dev/full']);
    assert.equal(caller.code, 1, caller.stderr);
    // 300 request records, and the saturation samples written beside them.
    const lost = (text: string) => Number(/faasbench: (\d+) records lost in total: cannot write to \/dev\/full \(ENOSPC/.exec(text)?.[1]);
    assert.ok(lost(caller.stderr) >= 300, caller.stderr);
    assert.match(caller.stderr, new RegExp(`exit status 1: ${lost(caller.stderr)} records were lost`));
    assert.equal(await gateway.stop(), 1, 'the gateway exit status');
    assert.ok(lost(gateway.logs.join('\n')) >= 300, gateway.logs.join('\n'));
  } finally {
    await gateway.stop();
    await worker.stop();
  }
});

test('gzipped records on /dev/full are counted as lost too', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-full-gz-'));
  const server = await startHttpServer();
  try {
    symlinkSync('/dev/full', join(dir, 'caller.ndjson.gz'));
    const caller = await runCli(['caller', '--url', server.url, '--requests', '300', '--connections', '4', '--warmup', '0', '--out', join(dir, 'caller.ndjson.gz')]);
    assert.equal(caller.code, 1, caller.stderr);
    const lost = Number(/faasbench: (\d+) records lost in total: cannot write to \S+caller\.ndjson\.gz \(ENOSPC/.exec(caller.stderr)?.[1]);
    assert.ok(lost >= 300, caller.stderr);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on a disk that fills up, record files end in whole lines', { timeout: 180_000, skip: isRoot ? false : 'needs root to mount a small tmpfs' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  try {
    // Leave ~40 KiB: a few hundred records fit, the rest of the run does not.
    writeFileSync(join(dir, 'filler'), Buffer.alloc(1024 * 1024 - 40 * 1024));
    const worker = await startWorkerProcess();
    const gateway = await startGatewayProcess('node', worker.address, ['--log', join(dir, 'gateway.ndjson')]);
    try {
      const caller = await runCli(['caller', '--url', `${gateway.url}/empty`, '--requests', '3000', '--connections', '8', '--warmup', '0', '--out', join(dir, 'caller.ndjson')]);
      assert.equal(caller.code, 1, caller.stderr);
      assert.match(caller.stderr, /records lost in total: cannot write to .*caller\.ndjson \(ENOSPC/);
      assert.equal(await gateway.stop(), 1, 'the gateway exit status');
      assert.ok(gateway.logs.some((l) => /records lost so far, later ones are dropped/.test(l)), 'said at once');
      assert.ok(gateway.logs.some((l) => /records lost in total/.test(l)), 'said at exit');
    } finally {
      await gateway.stop();
      await worker.stop();
    }
    const written = assertWholeLines(join(dir, 'gateway.ndjson')) + assertWholeLines(join(dir, 'caller.ndjson'));
    assert.ok(written > 0 && written < 6000, `${written} records written`);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('analyze names a record file that ends mid-line', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faasbench-torn-'));
  const worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson')]);
  const gateway = await startGatewayProcess('node', worker.address, ['--log', join(dir, 'gateway.ndjson')]);
  try {
    const caller = await runCli(['caller', '--url', `${gateway.url}/empty`, '--requests', '50', '--connections', '2', '--warmup', '0', '--out', join(dir, 'caller.ndjson')]);
    assert.equal(caller.code, 0, caller.stderr);
  } finally {
    await gateway.stop();
    await worker.stop();
  }
  const whole = assertWholeLines(join(dir, 'gateway.ndjson'));
  appendFileSync(join(dir, 'gateway.ndjson'), '{"role":"gateway","id":"torn-');
  const r = await runCli(['analyze', dir, '--no-parquet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`1 file\\(s\\) end in the middle of a line.*gateway\\.ndjson \\(line ${whole + 1}\\)`));
  assert.deepEqual(readdirSync(join(dir, 'report')).sort(), ['report.html', 'summary.json']);
});
