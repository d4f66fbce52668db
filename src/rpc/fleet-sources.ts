/**
 * Where a gateway's worker set comes from while it runs: the addresses it was
 * given, a workers file (one HOST:PORT a line) that it watches and re-reads
 * when it changes, and DNS names re-resolved on an interval, each to every
 * address it has (a Kubernetes headless Service). Whatever changes, the
 * whole set is handed to `apply` (Fleet.set), which adds and drains.
 */
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { lookup as dnsLookup } from 'node:dns/promises';
import { basename, dirname } from 'node:path';
import { isIP } from 'node:net';
import type { Logger } from '../log.js';
import { splitAddress } from './client.js';

export interface FleetSourceOptions {
  /** Addresses given on the command line; always in the set. */
  workers: readonly string[];
  /** Watched and re-read on change. */
  workersFile?: string;
  /** Host names re-resolved this often, each to all its addresses; 0: names are connected to as given. */
  resolveIntervalMs: number;
  apply: (addresses: string[]) => void;
  logger: Logger;
  /** For the tests: every address of a name. */
  lookup?: (host: string) => Promise<string[]>;
}

/** A file's addresses: one HOST:PORT a line; blank lines and `#` comments skipped. Throws naming the line. */
export function parseWorkersFile(text: string, file = 'workers file'): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    try {
      splitAddress(line);
    } catch (err) {
      throw new Error(`${file} line ${i + 1}: ${(err as Error).message}`);
    }
    if (!out.includes(line)) out.push(line);
  });
  return out;
}

/** IPv4 addresses when the name has any (the workers listen on 0.0.0.0, as `getent ahostsv4` chose before), else IPv6 ones. */
async function defaultLookup(host: string): Promise<string[]> {
  try {
    return (await dnsLookup(host, { all: true, family: 4 })).map((a) => a.address);
  } catch (err) {
    if (!GONE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    return (await dnsLookup(host, { all: true, family: 6 })).map((a) => a.address);
  }
}
/** The name does not exist or has no addresses: a headless Service with no ready pod. Anything else keeps what was known. */
const GONE = new Set(['ENOTFOUND', 'ENODATA']);
/** Editors and `echo >` write in several steps: read once they have settled. */
const SETTLE_MS = 25;
/** fs.watch misses changes on some filesystems (NFS, some volume mounts): a stat poll backs it up. */
const POLL_MS = 1000;

export class FleetSource {
  private fileEntries: string[] = [];
  private readonly resolved = new Map<string, string[]>();
  private last = '';
  private watcher: FSWatcher | null = null;
  private resolveTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly lookup: (host: string) => Promise<string[]>;

  constructor(private readonly options: FleetSourceOptions) {
    this.lookup = options.lookup ?? defaultLookup;
  }

  /** Reads the file and resolves the names once (a file that cannot be read or parsed throws), then keeps watching. */
  async start(): Promise<void> {
    const file = this.options.workersFile;
    if (file !== undefined) {
      this.fileEntries = parseWorkersFile(await readFile(file, 'utf8'), file);
      // The directory, not the file: a file replaced by a rename (an atomic write, a ConfigMap update) keeps being seen.
      this.watcher = watch(dirname(file), (_event, name) => {
        if (name === null || name === basename(file) || name.startsWith('..')) this.soon();
      });
      this.watcher.on('error', (err) => this.options.logger.warn({ err, file }, 'cannot watch the workers file; polling it'));
      this.watcher.unref();
      watchFile(file, { interval: POLL_MS, persistent: false }, () => this.soon());
    }
    await this.refresh(true);
    if (this.options.resolveIntervalMs > 0) {
      this.resolveTimer = setInterval(() => void this.refresh(true), this.options.resolveIntervalMs);
      this.resolveTimer.unref();
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.options.workersFile !== undefined) unwatchFile(this.options.workersFile);
    if (this.resolveTimer) clearInterval(this.resolveTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
  }

  private soon(): void {
    if (this.settleTimer || this.closed) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.reread();
    }, SETTLE_MS);
  }

  private async reread(): Promise<void> {
    const file = this.options.workersFile!;
    try {
      this.fileEntries = parseWorkersFile(await readFile(file, 'utf8'), file);
    } catch (err) {
      // A file half written, or gone for a moment: keep the workers there are.
      this.options.logger.warn({ file, err: (err as Error).message }, 'workers file not read; the workers stay as they are');
      return;
    }
    await this.refresh(false);
  }

  /** Recomputes the set; `resolveAll`: look every name up again (else only names not seen before). */
  private async refresh(resolveAll: boolean): Promise<void> {
    const entries = [...new Set([...this.options.workers, ...this.fileEntries])];
    if (this.options.resolveIntervalMs > 0) {
      const names = entries.filter((e) => isIP(splitAddress(e).host) === 0);
      await Promise.all(names.filter((n) => resolveAll || !this.resolved.has(n)).map((n) => this.resolve(n)));
    }
    if (this.closed) return;
    const addresses = [...new Set(entries.flatMap((e) => this.resolved.get(e) ?? [e]))];
    const key = addresses.join(',');
    if (key === this.last) return;
    this.last = key;
    this.options.apply(addresses);
  }

  private async resolve(entry: string): Promise<void> {
    const { host, port } = splitAddress(entry);
    try {
      const ips = [...new Set(await this.lookup(host))].sort();
      this.resolved.set(entry, ips.map((ip) => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (GONE.has(code)) this.resolved.set(entry, []);
      else if (!this.resolved.has(entry)) this.resolved.set(entry, []);
      this.options.logger.warn({ name: host, code }, GONE.has(code) ? 'worker name has no addresses' : 'cannot resolve a worker name; keeping its last addresses');
    }
  }
}
