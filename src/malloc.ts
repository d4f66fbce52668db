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
  // Thresholds fixed at start (MALLOC_TUNABLES, or the user's own) turn the dynamic ones off: nothing to raise.
  if (thresholdsFixed(process.env)) return;
  // allocUnsafeSlow: a block of its own, never the shared pool.
  Buffer.allocUnsafeSlow(MALLOC_PRIME_BYTES);
}

/**
 * glibc's malloc settings that give the attack soak's large results back to
 * the kernel: an opt-in (GLIBC_TUNABLES, read only at process start; `run`
 * and the soaks pass the user's environment to the roles they start; ansible:
 * faasbench_malloc_tunables), not a default (docs/deployment.md, "Memory").
 * A fixed mmap threshold of 4 MiB: 100 KiB and 1 MiB answers still come from
 * the heap (issue 29's gain, measured unchanged), 8 MiB results are mapped and
 * unmapped at free. Measured in soak:attack: the worker's RSS after the
 * attacks 108 → 304 and 132 → 451 MiB without, 123 → 203 and 114 → 179 with;
 * the gateways' no lower (their rest is small blocks freed in the middle of
 * glibc's main heap); and the steady load kept answering through the attacks
 * in 3 of 3 runs without, 0 of 4 with (every result a fresh mapping, faulted
 * in page by page).
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432';

/** glibc turns its dynamic thresholds off when any of these is set (malloc.c, do_set_*: no_dyn_threshold). */
export function thresholdsFixed(env: NodeJS.ProcessEnv): boolean {
  if (['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_'].some((name) => env[name] !== undefined)) return true;
  const fixing = ['mmap_threshold', 'trim_threshold', 'top_pad', 'mmap_max'].map((k) => `glibc.malloc.${k}=`);
  return (env.GLIBC_TUNABLES ?? '').split(':').some((t) => fixing.some((f) => t.trim().startsWith(f)));
}
