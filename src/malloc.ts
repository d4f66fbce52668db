/**
 * Freed once at a role's start (openRole, runCaller) to raise glibc's malloc thresholds (raiseMallocThresholds):
 * blocks below it come from the heap, and the heap keeps up to twice it free.
 * At most 32 MiB counts (glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64 bits).
 */
export const MALLOC_PRIME_BYTES = 16 * 1024 * 1024;

let primed = false;

/**
 * A large reply's body is a buffer of its own, freed by the garbage collector
 * some hundreds of replies later. glibc serves a block under its mmap
 * threshold (128 KiB at start) from its heap and gives the heap's top back to
 * the kernel whenever more than its trim threshold (also 128 KiB) is free
 * there: 100 KiB replies grew the heap by brk and fresh pages on every other
 * call and trimmed it at each collection (the payload bench read 100 KiB
 * answers at 3–10× the bare proxy, slower than 1 MiB ones, whose first free
 * raises both thresholds). glibc raises them when a block above the mmap
 * threshold is freed (malloc.c, "dynamic mmap threshold": the threshold
 * becomes its size, the trim threshold twice that): one block dropped at
 * start, freed at the first collection, does it for the process. Elsewhere
 * (musl) it is one short-lived allocation; no page of it is touched.
 */
export function raiseMallocThresholds(): void {
  if (primed) return;
  primed = true;
  // allocUnsafeSlow: a block of its own, never the shared pool.
  Buffer.allocUnsafeSlow(MALLOC_PRIME_BYTES);
}
