/**
 * Loads function modules where they will run, to check them at the worker's
 * start: in a worker thread under `--isolation thread`, in a child process
 * under `--isolation process`, so that a module's own code (its top level)
 * never runs in the worker's process, or at least never on its thread. Says,
 * for each module, what the worker needs to know of it or why it failed.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface ProbeRequest {
  /** file: URLs of the modules, in order. */
  urls: string[];
}

/** One module's verdict. */
export type ProbeResult =
  | { ok: true; mode: unknown; contentType: unknown; hasRun: boolean; hasDefault: boolean }
  | { ok: false; name: string; message: string; stack: string };

export type ProbeMessage = { url: string; result: ProbeResult };

export async function probe(url: string): Promise<ProbeResult> {
  try {
    const mod = (await import(url)) as { default?: { run?: unknown; mode?: unknown; contentType?: unknown } };
    const fn = mod.default;
    return { ok: true, hasDefault: fn !== undefined && fn !== null, hasRun: typeof fn?.run === 'function', mode: fn?.mode, contentType: fn?.contentType };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { ok: false, name: e.name, message: e.message, stack: e.stack ?? '' };
  }
}

async function main(request: ProbeRequest, send: (m: ProbeMessage) => void): Promise<void> {
  for (const url of request.urls) send({ url, result: await probe(url) });
}

if (!isMainThread && (workerData as { probe?: ProbeRequest } | undefined)?.probe) {
  void main((workerData as { probe: ProbeRequest }).probe, (m) => parentPort!.postMessage(m));
} else if (isMainThread && process.send && process.argv[2] === 'probe') {
  // A process of its own group (the worker kills it whole): it ends with the worker, too.
  process.on('disconnect', () => process.exit(0));
  void main(JSON.parse(process.argv[3] ?? '{"urls":[]}') as ProbeRequest, (m) => process.send!(m));
}
