/**
 * The role's own children, told apart from a function's. Under
 * `--isolation inline` the worker hooks every spawn of its thread and kills a
 * child that no running call owns (worker/children.ts); faasbench's own
 * helpers on that thread (bpftrace and mount for kernel stamps) spawn through
 * ownSpawn so that the hook leaves them alone. A leaf: kernel/ and worker/
 * both import it.
 */
let depth = 0;

/** Runs `spawnNow`, which must spawn synchronously (spawn, execFile, fork), as the role's own: no function's child. */
export function ownSpawn<T>(spawnNow: () => T): T {
  depth++;
  try {
    return spawnNow();
  } finally {
    depth--;
  }
}

/** Whether the spawn under way is the role's own (inside ownSpawn). */
export function spawningOwn(): boolean {
  return depth > 0;
}
