import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MALLOC_TUNABLES, thresholdsFixed } from './malloc.js';

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

test('thresholdsFixed: the settings with which glibc turns its dynamic thresholds off, and raising them is moot', () => {
  for (const env of [{ GLIBC_TUNABLES: MALLOC_TUNABLES }, { GLIBC_TUNABLES: 'glibc.pthread.rseq=0:glibc.malloc.trim_threshold=1' }, { MALLOC_MMAP_THRESHOLD_: '0' }]) {
    assert.equal(thresholdsFixed(env), true, JSON.stringify(env));
  }
  for (const env of [{}, { GLIBC_TUNABLES: '' }, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, { MALLOC_ARENA_MAX: '2' }]) assert.equal(thresholdsFixed(env), false, JSON.stringify(env));
});

test('the ansible services export faasbench_malloc_tunables when it is set (an opt-in: empty by default)', () => {
  const repo = new URL('../../', import.meta.url);
  const defaults = readFileSync(new URL('ansible/roles/faasbench/defaults/main.yml', repo), 'utf8');
  assert.ok(defaults.includes('\nfaasbench_malloc_tunables: ""\n'), 'ansible defaults');
  assert.ok(defaults.includes(MALLOC_TUNABLES), 'the defaults name the measured value');
  const script = readFileSync(new URL('ansible/roles/faasbench/templates/service.sh.j2', repo), 'utf8');
  assert.ok(script.includes('{% if faasbench_malloc_tunables %}') && script.includes('export GLIBC_TUNABLES={{ faasbench_malloc_tunables | quote }}'), 'service.sh.j2');
});
