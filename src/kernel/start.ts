/**
 * Kernel stamps at a role's start: refused with one line (a UsageError, exit
 * 2) when the machine cannot give them, started once the role's ports are known.
 */
import type { RecordSink } from '../trace/record-writer.js';
import { HOST, type SampledRole } from '../trace/records.js';
import { UsageError } from '../usage-error.js';
import { checkKernelStamps, type WatchShape } from './checks.js';
import type { KernelWatch } from './script.js';
import { KernelTracer } from './tracer.js';
import { statSync } from 'node:fs';

/** This process's network namespace (its inode), so that the tracer keeps to its sockets; null when unreadable. */
function netnsInode(): number | null {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return null;
  }
}

/** The bpftrace to use, or a UsageError saying what kernel stamps lack here. */
export async function kernelStampsReady(shape: WatchShape, log: string | undefined, flag = '--log'): Promise<string> {
  if (!log) throw new UsageError(`--kernel-stamps needs a record file (${flag}): the kernel stamps are lines in it`);
  const ready = await checkKernelStamps(shape);
  if ('missing' in ready) throw new UsageError(ready.missing);
  return ready.bpftrace;
}

/** Starts the role's tracer into its record sink; a tracer that cannot load is a UsageError, with bpftrace's words. */
export async function startTracer(bpftrace: string, role: SampledRole, watch: Pick<KernelWatch, 'serve' | 'dial' | 'dialled' | 'otherServers'>, sink: RecordSink): Promise<KernelTracer> {
  try {
    return await KernelTracer.start(bpftrace, { role, host: HOST, pid: process.pid, netns: netnsInode(), ...watch }, (text) => sink.write(text));
  } catch (err) {
    throw new UsageError(`cannot start the kernel tracer: ${(err as Error).message}`);
  }
}

