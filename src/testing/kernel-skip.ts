import { checkKernelStamps, type WatchShape } from '../kernel/checks.js';

/**
 * Why a kernel-stamps test cannot run here (not root, no bpftrace, no tracefs), or null.
 * Under CI, which runs as root and installs bpftrace, a missing piece fails the test instead.
 */
export async function kernelSkipReason(shape: WatchShape): Promise<string | null> {
  const ready = await checkKernelStamps(shape);
  if (!('missing' in ready)) return null;
  if (process.env.CI) throw new Error(`${ready.missing} (under CI as root, .ci/run installs bpftrace)`);
  return ready.missing;
}
