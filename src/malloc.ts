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
 * glibc's malloc settings faasbench starts its own roles with (run, the soaks,
 * the ansible services, the docker image; docs/deployment.md, "Memory"). A
 * fixed mmap threshold of 4 MiB: 100 KiB and 1 MiB answers still come from
 * the heap (issue 29's gain), 8 MiB results are mapped and unmapped at free,
 * where with the dynamic threshold (raised to 16 MiB by raiseMallocThresholds)
 * they stayed resident once freed in the heap's middle. A fixed threshold
 * turns glibc's dynamic one off; the trim threshold keeps 32 MiB free at the
 * heap's top, as the raised dynamic one did. Read only at process start.
 */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=4194304:glibc.malloc.trim_threshold=33554432';

/** glibc's older spelling of the same settings: a user who set any of them has chosen. */
const MALLOC_ENV = ['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_', 'MALLOC_ARENA_MAX'];

/** Whether `env` already says how glibc's malloc should behave (GLIBC_TUNABLES empty or with glibc.malloc.*, or a MALLOC_*_ variable). */
export function mallocChosen(env: NodeJS.ProcessEnv): boolean {
  if (MALLOC_ENV.some((name) => env[name] !== undefined)) return true;
  // Set and empty: glibc's own defaults, chosen.
  if (env.GLIBC_TUNABLES !== undefined && env.GLIBC_TUNABLES.trim() === '') return true;
  return (env.GLIBC_TUNABLES ?? '').split(':').some((t) => t.trim().startsWith('glibc.malloc.'));
}

/** glibc turns its dynamic thresholds off when any of these is set (malloc.c, do_set_*: no_dyn_threshold). */
function thresholdsFixed(env: NodeJS.ProcessEnv): boolean {
  if (['MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_'].some((name) => env[name] !== undefined)) return true;
  const fixing = ['mmap_threshold', 'trim_threshold', 'top_pad', 'mmap_max'].map((k) => `glibc.malloc.${k}=`);
  return (env.GLIBC_TUNABLES ?? '').split(':').some((t) => fixing.some((f) => t.trim().startsWith(f)));
}

/**
 * The environment for a role faasbench starts: `env` with MALLOC_TUNABLES
 * added to GLIBC_TUNABLES (after any other tunables the user set), unless the
 * user chose malloc settings of their own, which are kept as they are.
 */
export function withMallocTunables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (mallocChosen(env)) return env;
  const own = env.GLIBC_TUNABLES?.trim();
  return { ...env, GLIBC_TUNABLES: own ? `${own}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES };
}
