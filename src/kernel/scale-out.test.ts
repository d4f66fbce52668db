/**
 * A gateway's tracer follows its worker set (issue 28): a worker added through
 * the workers file after the gateway (and its tracer) started is traced like
 * the first, and its calls get the RPC link's split. Real binaries, real
 * records, the analysis' requests.csv. Needs root and bpftrace: skipped with
 * the reason without them, a failure under CI as root.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../analysis/analyze.js';
import { connectedToWorker } from '../run/role-process.js';
import { PATIENT, runCli, startRole, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { kernelSkipReason } from '../testing/kernel-skip.js';

const skip = await kernelSkipReason({ role: 'gateway', sends: true, dial: true });
const REQUESTS = 200;

async function writeWorkers(file: string, addresses: string[]): Promise<void> {
  await writeFile(`${file}.tmp`, addresses.map((a) => `${a}\n`).join(''));
  await rename(`${file}.tmp`, file);
}

test('a worker added to the workers file after the gateway started is traced: its calls have the RPC link split', { skip: skip ?? false, timeout: 600_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-kernel-scale-out-'));
  const log = (name: string) => join(dir, `${name}.ndjson`);
  const roles: RoleProcess[] = [];
  try {
    const worker = async (name: string) => {
      const w = await startWorkerProcess(['--host', '127.0.0.1', '--isolation', 'inline', '--kernel-stamps', '--log', log(name)]);
      roles.push(w);
      return w;
    };
    const a = await worker('worker-a');
    const file = join(dir, 'workers');
    await writeWorkers(file, [a.address]);
    const gateway = await startRole(
      ['gateway', '--framework', 'node', '--host', '127.0.0.1', '--port', '0', '--workers-file', file, '--log', log('gateway'), '--kernel-stamps'],
      'gateway listening',
      PATIENT,
    );
    roles.unshift(gateway);
    await connectedToWorker(gateway, 1, PATIENT.timeoutMs);
    // Joins once the gateway's tracer runs (it started before "gateway listening").
    const b = await worker('worker-b');
    await writeWorkers(file, [a.address, b.address]);
    await connectedToWorker(gateway, 2, PATIENT.timeoutMs);

    const caller = await runCli(
      ['caller', '--url', `${gateway.ready.url as string}/empty`, '--connections', '2', '--requests', String(REQUESTS), '--warmup', '0s', '--out', log('caller'), '--kernel-stamps'],
      { timeoutMs: PATIENT.timeoutMs },
    );
    assert.equal(caller.code, 0, caller.stderr);
    for (const role of roles.splice(0)) assert.equal(await role.stop(), 0, 'each role stops cleanly, its tracer with it');

    const { summary, files } = await analyze({ inputs: ['caller', 'gateway', 'worker-a', 'worker-b'].map(log), out: join(dir, 'report'), resamples: 100, csv: true, parquet: false });
    assert.equal(summary.kernel?.lost, 0, 'no kernel event lost');
    const [head, ...lines] = (await readFile(files.csv!, 'utf8')).trimEnd().split('\n');
    const names = head!.split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [names[i]!, v]))).filter((r) => r.measured === 'true');
    assert.equal(rows.length, REQUESTS);
    // The caller link's split too: the gateway's message and send stamps, stored as one entry per request.
    const callerSplit = rows.filter((r) => r.wire_ns !== '');
    assert.equal(callerSplit.length, rows.length, `${callerSplit.length} of ${rows.length} requests have the caller link split`);
    for (const r of callerSplit) {
      const n = (k: string) => BigInt(r[`${k}_ns`]!);
      assert.equal(n('wire') + n('gateway_socket_wait') + n('caller_socket_wait'), n('caller_link'), `${r.id}: caller link`);
    }
    const on = (w: string) => rows.filter((r) => r.worker_address === w);
    // Round robin: both workers served; every call on either has its split, and the parts add up to the link.
    for (const [name, w] of [['the first worker', a.address], ['the worker added later', b.address]] as const) {
      const served = on(w);
      assert.ok(served.length >= REQUESTS / 4, `${name} served ${served.length} of ${REQUESTS}`);
      const split = served.filter((r) => r.rpc_wire_ns !== '');
      assert.equal(split.length, served.length, `${name}: ${split.length} of ${served.length} calls have the RPC link split`);
      for (const r of split) {
        const n = (k: string) => BigInt(r[`${k}_ns`]!);
        assert.equal(n('rpc_wire') + n('worker_socket_wait') + n('gateway_reply_wait'), n('rpc_link'), `${r.id}: RPC link`);
      }
    }
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    await rm(dir, { recursive: true, force: true });
  }
});
