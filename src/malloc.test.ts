import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MALLOC_TUNABLES, mallocChosen, withMallocTunables } from './malloc.js';

/**
 * What freeing 64 buffers of 100 KiB gives back to the kernel (MiB of RSS), in a
 * child with or without raiseMallocThresholds() first: glibc trims its heap at
 * 128 KiB free until a large block has been freed.
 */
function rssGivenBack(raised: boolean, env: NodeJS.ProcessEnv = process.env, count = 64, bytes = 100 * 1024, pinned = false): number {
  const script = `
    if (${raised}) { const { raiseMallocThresholds } = await import(${JSON.stringify(new URL('./malloc.js', import.meta.url).href)}); raiseMallocThresholds(); }
    const settle = async () => { for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); } };
    await settle();
    let held = [];
    const kept = [];
    for (let i = 0; i < ${count}; i++) { held.push(Buffer.allocUnsafe(${bytes}).fill(i)); if (${pinned}) kept.push(Buffer.allocUnsafeSlow(64 * 1024).fill(i)); }
    const before = process.memoryUsage().rss;
    held = null;
    await settle();
    process.stdout.write(String((before - process.memoryUsage().rss) / 2 ** 20));`;
  return Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000, env }));
}

const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;

test('once raised, freed reply buffers stay in the heap for the next replies, instead of glibc trimming it at 128 KiB', { skip: glibc ? false : 'not glibc' }, () => {
  // The control: not raised, the 6.4 MiB go back to the kernel (else this test could not fail).
  assert.ok(rssGivenBack(false) > 3, 'glibc trimmed the heap');
  assert.ok(rssGivenBack(true) < 1, 'raised, the freed buffers stay for reuse');
});

const plain = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'GLIBC_TUNABLES' && !k.startsWith('MALLOC_')));
const tuned = { ...plain, GLIBC_TUNABLES: MALLOC_TUNABLES };

test('with MALLOC_TUNABLES, freed 8 MiB results go back to the kernel; the raised dynamic threshold keeps them', { skip: glibc ? false : 'not glibc' }, () => {
  // 12 × 8 MiB, each followed by a small block that stays: freed, the large ones are holes in the heap's middle
  // (as in a server, where other allocations outlive a result), which glibc never gives back.
  const raised = rssGivenBack(true, plain, 12, 8 * 2 ** 20, true);
  const fixed = rssGivenBack(true, tuned, 12, 8 * 2 ** 20, true);
  assert.ok(raised < 48, `raised: ${raised.toFixed(1)} MiB of 96 back`);
  assert.ok(fixed > 88, `fixed: ${fixed.toFixed(1)} MiB of 96 back`);
});

test('with MALLOC_TUNABLES, freed 100 KiB replies stay in the heap, as once raised', { skip: glibc ? false : 'not glibc' }, () => {
  assert.ok(rssGivenBack(false, tuned) < 1, 'the fixed trim threshold keeps them for reuse');
});

test("withMallocTunables adds the tunables unless the user chose malloc settings", () => {
  assert.equal(withMallocTunables({}).GLIBC_TUNABLES, MALLOC_TUNABLES);
  assert.equal(withMallocTunables({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' }).GLIBC_TUNABLES, `glibc.pthread.rseq=0:${MALLOC_TUNABLES}`);
  for (const own of [{ GLIBC_TUNABLES: '' }, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, { GLIBC_TUNABLES: 'glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=1048576' }, { MALLOC_ARENA_MAX: '2' }, { MALLOC_MMAP_THRESHOLD_: '0' }]) {
    assert.equal(mallocChosen(own), true, JSON.stringify(own));
    assert.deepEqual(withMallocTunables(own), own, JSON.stringify(own));
  }
});

test('the docker image and the ansible services set the same tunables as run', () => {
  const repo = new URL('../../', import.meta.url);
  const dockerfile = readFileSync(new URL('docker/Dockerfile', repo), 'utf8');
  assert.ok(dockerfile.includes(`\nENV GLIBC_TUNABLES=${MALLOC_TUNABLES}\n`), 'docker/Dockerfile');
  const defaults = readFileSync(new URL('ansible/roles/faasbench/defaults/main.yml', repo), 'utf8');
  assert.ok(defaults.includes(`\nfaasbench_malloc_tunables: "${MALLOC_TUNABLES}"\n`), 'ansible defaults');
  const script = readFileSync(new URL('ansible/roles/faasbench/templates/service.sh.j2', repo), 'utf8');
  assert.ok(script.includes('export GLIBC_TUNABLES={{ faasbench_malloc_tunables | quote }}'), 'service.sh.j2');
});
