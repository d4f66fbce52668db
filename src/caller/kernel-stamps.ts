/**
 * The caller's kernel stamps: its tracer watches the sockets it dials, one
 * message at a time on each (an HTTP request, or one call to the TCP front or
 * a worker), so the first segment after each send is the answer's.
 */
import type { KernelWatch } from '../kernel/script.js';
import { kernelStampsReady } from '../kernel/start.js';

export function callerWatch(targets: readonly { port: number }[]): Pick<KernelWatch, 'serve' | 'dial'> {
  return { serve: [], dial: [...new Set(targets.map((t) => t.port))].map((port) => ({ port, mode: 'msg' })) };
}

/** The bpftrace to use; a UsageError when the machine cannot give kernel stamps or there is no record file. */
export function callerKernelReady(out: string | undefined): Promise<string> {
  return kernelStampsReady({ role: 'caller', sends: false, dial: true }, out, '--out');
}
