/**
 * The scaler's actuator for `faasbench run`: worker processes on this
 * machine behind one gateway's workers file. Scaling up starts workers and
 * lists them; scaling down unlists the newest, waits until the gateway has
 * drained them (its "fleet" log line "removed"), then stops them, so that no
 * call is cut off.
 */
import type { Actuator } from '../scale/scaler.js';
import { writeWorkersFile } from '../scale/pool.js';
import { startRole, type RoleProcess } from './role-process.js';

export interface LocalWorkersOptions {
  /** The gateway's --workers-file. */
  file: string;
  /** The worker's flags besides --port and --log. */
  workerArgs: string[];
  /** The record file of the k-th worker started (k from 1). */
  recordsOf: (k: number) => string;
  /** Started processes, for run.json and the final cleanup. */
  onStart?: (p: RoleProcess) => void;
  say?: (line: string) => void;
  /** Patience for a drain (the calls in flight of a worker being removed). */
  drainTimeoutMs: number;
}

/** How often the gateway's log says the worker at `address` was removed (drained). */
const removals = (gateway: RoleProcess | null, address: string) =>
  gateway?.logs.filter((l) => l.includes('"msg":"fleet"') && l.includes('"event":"removed"') && l.includes(`"worker":"${address}"`)).length ?? 0;

export class LocalWorkers implements Actuator {
  private readonly listed: Array<{ proc: RoleProcess; address: string }> = [];
  private started = 0;
  private want = 0;
  /** The gateway whose log tells when a worker is drained; set once it runs. */
  gateway: RoleProcess | null = null;

  constructor(private readonly o: LocalWorkersOptions) {}

  get target(): number {
    return this.want;
  }

  get ready(): number {
    return this.listed.length;
  }

  get addresses(): string[] {
    return this.listed.map((w) => w.address);
  }

  async scaleTo(n: number): Promise<void> {
    this.want = n;
    if (n > this.listed.length) {
      const fresh = await Promise.all(Array.from({ length: n - this.listed.length }, () => this.startOne()));
      this.listed.push(...fresh);
      await writeWorkersFile(this.o.file, this.addresses);
      this.o.say?.(`  workers: ${this.listed.length} (+${fresh.length})`);
    } else if (n < this.listed.length) {
      const leaving = this.listed.splice(n).map((w) => ({ ...w, before: removals(this.gateway, w.address) }));
      await writeWorkersFile(this.o.file, this.addresses);
      this.o.say?.(`  workers: ${this.listed.length} (−${leaving.length}, draining)`);
      await Promise.all(leaving.map((w) => this.retire(w)));
    }
  }

  /** Stops every worker (at the end of a run). */
  async stopAll(): Promise<void> {
    await Promise.all(this.listed.splice(0).map((w) => w.proc.stop()));
  }

  private async startOne(): Promise<{ proc: RoleProcess; address: string }> {
    const k = ++this.started;
    const proc = await startRole(['worker', '--port', '0', '--log', this.o.recordsOf(k), ...this.o.workerArgs], 'worker listening');
    this.o.onStart?.(proc);
    return { proc, address: proc.ready.address as string };
  }

  /** Waits for the gateway to drain the worker (bounded), then stops it. */
  private async retire(w: { proc: RoleProcess; address: string; before: number }): Promise<void> {
    const deadline = Date.now() + this.o.drainTimeoutMs;
    while (this.gateway && removals(this.gateway, w.address) <= w.before && Date.now() < deadline && this.gateway.proc.exitCode === null) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.proc.stop();
  }
}
