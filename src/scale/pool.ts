/**
 * Scaling a fleet of pre-deployed workers: the scaler writes the gateways'
 * workers file (gateway --workers-file) with the first n workers of the
 * pool. A worker left out drains at every gateway; nothing is started or
 * stopped. Written atomically (a temporary file, then rename), as the
 * gateways expect.
 */
import { rename, writeFile } from 'node:fs/promises';
import type { Actuator } from './scaler.js';

export async function writeWorkersFile(file: string, addresses: readonly string[]): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `# written by faasbench's scaler; one HOST:PORT a line\n${addresses.map((a) => `${a}\n`).join('')}`);
  await rename(tmp, file);
}

export class PoolActuator implements Actuator {
  private n: number;

  constructor(
    private readonly pool: readonly string[],
    private readonly file: string,
    initial: number,
  ) {
    this.n = Math.min(initial, pool.length);
  }

  get target(): number {
    return this.n;
  }

  get ready(): number {
    return this.n;
  }

  /** Writes the file with the first `initial` workers. */
  async init(): Promise<void> {
    await writeWorkersFile(this.file, this.pool.slice(0, this.n));
  }

  async scaleTo(n: number): Promise<void> {
    this.n = Math.max(0, Math.min(n, this.pool.length));
    await writeWorkersFile(this.file, this.pool.slice(0, this.n));
  }
}
