/**
 * Dead Buffers given back once large results stop passing through a server role (issue 30).
 *
 * V8 frees an ArrayBuffer's memory (every Buffer's) only in a full GC, and
 * starts one when its JS heap grows, not when dead Buffers pile up outside
 * it. A role whose heap stays small while large results pass through it (a
 * worker answering 8 MiB payloads, a TCP front holding replies for a client
 * that does not read) kept them long after: measured in soak:attack, the
 * worker held 320 MiB of ArrayBuffers 10 s after the attack, idle, and one
 * full GC freed 240 MiB of them in 27 ms.
 *
 * So once a second, one full GC runs when both hold:
 * - Buffers hold RECLAIM_GROWTH_BYTES more than after the previous
 *   collection (the baseline is what that one left, so Buffers still alive
 *   do not trigger it again), and
 * - they have not moved by STILL_BYTES for STILL_CHECKS checks in a row: no
 *   large result is passing through, so what sits there is left over. A
 *   run that moves large results (a payload sweep) moves them every second
 *   and never sees one; V8's own collections, which its allocations start,
 *   are what run there. A run of small calls sees at most one, once, after
 *   large ones left garbage behind (27 ms measured for 240 MiB).
 * Each collection is logged (what it found, how long it took), so a run's
 * logs show whether one fell inside it.
 *
 * `gc` comes from V8's --expose-gc, set for one new context and unset again
 * (the way jest-leak-detector gets it), so function code never sees a `gc`.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './log.js';

/** Growth of ArrayBuffer bytes since the last collection that makes one due: V8's own step for external memory. */
export const RECLAIM_GROWTH_BYTES = 64 * 1024 * 1024;
/** Buffers that moved less than this between two checks stood still. */
export const STILL_BYTES = 1024 * 1024;
/** Checks in a row (a second apart) that Buffers must stand still for. */
export const STILL_CHECKS = 3;
const CHECK_MS = 1000;
const MIB = 1024 * 1024;

let gc: (() => void) | null | undefined;

function fullGc(): (() => void) | null {
  if (gc !== undefined) return gc;
  try {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') return (gc = exposed);
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
  } catch {
    gc = null;
  }
  return gc;
}

/** Starts the check; returns its stop. A no-op where V8 will not expose a collection. */
export function reclaimDeadBuffers(logger: Logger): () => void {
  const collect = fullGc();
  if (!collect) return () => {};
  let baseline = process.memoryUsage().arrayBuffers;
  let previous = baseline;
  let still = 0;
  const timer = setInterval(() => {
    const before = process.memoryUsage().arrayBuffers;
    still = Math.abs(before - previous) < STILL_BYTES ? still + 1 : 0;
    previous = before;
    if (before < baseline) baseline = before;
    if (before - baseline < RECLAIM_GROWTH_BYTES || still < STILL_CHECKS) return;
    const t0 = performance.now();
    collect();
    const ms = performance.now() - t0;
    baseline = previous = process.memoryUsage().arrayBuffers;
    still = 0;
    // Backing stores are freed by a thread of V8's a moment later: the baseline may start above what is left, and falls to it.
    logger.info({ arrayBuffersMiB: Math.round(before / MIB), gcMs: Math.round(ms * 10) / 10 }, 'Buffers standing still: one full collection for the dead ones');
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
