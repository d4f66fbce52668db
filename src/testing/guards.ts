/**
 * What the hostile-client tests share: a hang guard, a process's resident
 * memory, and a client that read nothing reading again until the end.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** `promise`, or a failure naming `what` after `ms`: a hang guard, not a timing. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A process's resident memory (Linux /proc), in MB. */
export const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** Resumes a paused socket and counts what it still gets until the server's close (within 30 s). */
export async function bytesUntilClose(socket: Socket): Promise<number> {
  let got = 0;
  socket.on('data', (d: Buffer) => (got += d.length));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.resume();
  await within(ended, 30_000, 'the end of the connection');
  return got;
}
