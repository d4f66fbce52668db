/**
 * What kernel stamps need of the machine, checked before a role starts so
 * that it refuses with one line naming what is missing: Linux, root, bpftrace,
 * tracefs (mounted here when it is not, as root may), the tracepoints the
 * role's watch uses, and BTF.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { release } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ownSpawn } from '../own-spawn.js';
import { tracepointsOf, type KernelWatch } from './script.js';

/** Where tracefs is normally mounted; the older path is under debugfs. */
const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];
const BTF = '/sys/kernel/btf/vmlinux';

/** The bpftrace binary: $FAASBENCH_BPFTRACE, else the first on the PATH; null when there is none. */
export function findBpftrace(env: NodeJS.ProcessEnv = process.env): string | null {
  const given = env.FAASBENCH_BPFTRACE;
  if (given) return executable(given) ? given : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir || '.', 'bpftrace');
    if (dir && executable(candidate)) return candidate;
  }
  return null;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tracefs mount with event formats, mounting it at /sys/kernel/tracing when none is (root only). */
async function tracefs(): Promise<string | null> {
  const found = TRACEFS.find((dir) => existsSync(join(dir, 'events')));
  if (found) return found;
  try {
    await ownSpawn(() => promisify(execFile)('mount', ['-t', 'tracefs', 'nodev', TRACEFS[0]!]));
  } catch {
    return null;
  }
  return existsSync(join(TRACEFS[0]!, 'events')) ? TRACEFS[0]! : null;
}

/** What kind of sockets a role will watch: enough to know which tracepoints it needs before its ports are known. */
export type WatchShape = Pick<KernelWatch, 'role'> & { sends: boolean; dial: boolean };

export interface Ready {
  bpftrace: string;
}

/**
 * The one thing missing for kernel stamps, as a sentence, or the bpftrace to
 * use. Checked in the order a user would fix them.
 */
export async function checkKernelStamps(shape: WatchShape): Promise<Ready | { missing: string }> {
  if (process.platform !== 'linux') return { missing: `kernel stamps need Linux (eBPF tracepoints); this is ${process.platform}` };
  if (process.getuid?.() !== 0) {
    return { missing: 'kernel stamps need root: bpftrace loads eBPF programs into the kernel (run as root, or with sudo)' };
  }
  const bpftrace = findBpftrace();
  if (bpftrace === null) {
    return {
      missing: process.env.FAASBENCH_BPFTRACE
        ? `kernel stamps need bpftrace: $FAASBENCH_BPFTRACE (${process.env.FAASBENCH_BPFTRACE}) is not an executable`
        : 'kernel stamps need bpftrace on the PATH (Debian and Ubuntu: apt-get install bpftrace)',
    };
  }
  const fs = await tracefs();
  if (fs === null) {
    return { missing: `kernel stamps need tracefs, and it is not mounted (mount -t tracefs nodev ${TRACEFS[0]} failed)` };
  }
  const watch: KernelWatch = { role: shape.role, host: '', pid: 1, serve: shape.sends ? [{ port: 1, mode: 'msg', sends: true }] : [], dial: shape.dial ? [{ port: 1, mode: 'seg' }] : [] };
  for (const point of tracepointsOf(watch)) {
    if (!existsSync(join(fs, 'events', point))) {
      return { missing: `kernel stamps need the tracepoint ${point.replace('/', ':')}, which this kernel (${release()}) lacks: no ${fs}/events/${point}` };
    }
  }
  if (!existsSync(BTF)) return { missing: `kernel stamps need the kernel's BTF type information (${BTF}; CONFIG_DEBUG_INFO_BTF)` };
  return { bpftrace };
}
