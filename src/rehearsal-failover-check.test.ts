/**
 * scripts/rehearsal/check-failover.mjs, the six-host rehearsal's verdict on a
 * killed worker, run on records made to the shape the gateway writes: a call
 * queued on the victim's link (never written, no t2) and a call the closed
 * connection failed count as in flight; a failure after the loss does not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const SCRIPT = new URL('../../scripts/rehearsal/check-failover.mjs', import.meta.url).pathname;
const VICTIM = '10.0.0.2:7070';
const LOST = 10_000n;

type Call = { id: string; worker: string; t2: bigint | null; t4: bigint | null; error?: string };

async function check(calls: Call[]): Promise<{ status: number | null; out: Record<string, unknown>; err: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fb-failover-check-'));
  try {
    const s = (t: bigint | null) => (t === null ? null : String(t));
    const gateway = [
      { role: 'gateway', type: 'fleet', event: 'lost', worker: VICTIM, t: String(LOST) },
      ...calls.map((c) => ({ role: 'gateway', id: c.id, worker: c.worker, status: c.error ? 502 : 200, error: c.error ?? null, t2: s(c.t2), t4: s(c.t4) })),
    ];
    const caller = calls.map((c) => ({ role: 'caller', id: c.id, status: c.error ? 502 : 200, error: null }));
    const lines = (rs: object[]) => rs.map((r) => JSON.stringify(r)).join('\n') + '\n';
    await writeFile(join(dir, 'g.ndjson'), lines(gateway));
    await writeFile(join(dir, 'c.ndjson'), lines(caller));
    const r = spawnSync(process.execPath, [SCRIPT, join(dir, 'g.ndjson'), join(dir, 'c.ndjson'), VICTIM, '8'], { encoding: 'utf8' });
    return { status: r.status, out: JSON.parse(r.stdout.trim() || '{}') as Record<string, unknown>, err: r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const served: Call[] = [
  { id: 'a', worker: VICTIM, t2: 1_000n, t4: 2_000n },
  { id: 'b', worker: '10.0.0.3:7070', t2: 11_000n, t4: 12_000n },
];

test('calls queued on the killed worker or failed with its connection count as in flight', async () => {
  const r = await check([
    ...served,
    { id: 'sent', worker: VICTIM, t2: 9_000n, t4: 9_990n, error: 'worker_unavailable' },
    { id: 'queued', worker: VICTIM, t2: null, t4: 9_990n, error: 'worker_unavailable' },
  ]);
  assert.equal(r.status, 0, r.err);
  assert.deepEqual([r.out.failed, r.out.in_flight_on_victim_at_loss], [2, 2]);
});

test('a call sent to the killed worker after its loss, or failing elsewhere, fails the check', async () => {
  const late = await check([...served, { id: 'late', worker: VICTIM, t2: 10_500n, t4: 10_600n, error: 'worker_unavailable' }]);
  assert.equal(late.status, 1);
  assert.match(late.err, /was not in flight when the worker was lost/);
  const elsewhere = await check([...served, { id: 'x', worker: '10.0.0.3:7070', t2: 11_500n, t4: 11_600n, error: 'gateway_timeout' }]);
  assert.equal(elsewhere.status, 1);
  assert.match(elsewhere.err, /went to 10\.0\.0\.3:7070, not the killed worker/);
});
