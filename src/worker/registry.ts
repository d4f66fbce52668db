import { fork, spawnSync } from 'node:child_process';
import { readdir, realpath } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../usage-error.js';
import type { FaasFunction } from '../contract/function.js';
import { killTrees } from './children.js';
import { probe, type ProbeMessage, type ProbeResult } from './function-probe.js';

export interface LoadedFunction {
  name: string;
  /** file: URL of the module, for worker threads to import it again. */
  url: string;
  /**
   * The module's default export; when it was loaded elsewhere (in a probe
   * thread or process), what the worker needs of it (mode, contentType) with
   * a run() that must never be called here.
   */
  fn: FaasFunction;
}

/** Where the modules are checked: where they will run. */
export interface LoadOptions {
  isolation: 'thread' | 'process' | 'inline';
  /** A module must load within this (a top-level await that never settles would hang the start). */
  timeoutMs: number;
  /** The probe thread's or process's heap limit. */
  memoryMb: number;
}

const MODULE_EXTENSIONS = new Set(['.js', '.mjs']);
const NAME = /^[a-z][a-z0-9_-]*$/;
const PROBE = new URL('./function-probe.js', import.meta.url);

/** The functions that ship with faasbench, compiled beside this package. */
export const defaultFunctionsDir = resolve(new URL('../../functions', import.meta.url).pathname);
/** The misbehaving functions, loaded only on request. */
export const faultFunctionsDir = join(defaultFunctionsDir, 'faults');

/**
 * Loads every function module of a directory. A module that fails to load,
 * whose default export is not a function object, that does not finish
 * loading within the call time limit, or that is a link to a file outside
 * the directory stops the worker at start with one line naming the file:
 * better than a 502 on every call later. Under `--isolation thread` or
 * `process` the modules are loaded in a probe thread or process, never on the
 * worker's own thread.
 */
export async function loadFunctions(dir: string, options: LoadOptions = { isolation: 'inline', timeoutMs: 30_000, memoryMb: 512 }): Promise<Map<string, LoadedFunction>> {
  let entries: string[];
  let realDir: string;
  try {
    entries = await readdir(dir);
    realDir = await realpath(dir);
  } catch (err) {
    throw new UsageError(`cannot read the functions directory ${dir}: ${(err as Error).message}`);
  }
  const modules: { entry: string; name: string; url: string }[] = [];
  for (const entry of entries.sort()) {
    const ext = extname(entry);
    if (!MODULE_EXTENSIONS.has(ext) || entry.endsWith('.test.js')) continue;
    const name = basename(entry, ext);
    if (!NAME.test(name)) continue;
    const real = await realpath(join(dir, entry)).catch((err: Error) => {
      throw new UsageError(`function module ${entry} cannot be read: ${err.message}`);
    });
    if (!real.startsWith(realDir + sep)) {
      throw new UsageError(
        `function module ${entry} is a link to ${real}, outside the functions directory ${dir}: copy it in, or write a module there that re-exports it`,
      );
    }
    modules.push({ entry, name, url: pathToFileURL(join(dir, entry)).href });
  }
  const results =
    options.isolation === 'inline' ? await loadHere(modules, options.timeoutMs) : await loadElsewhere(modules, options);
  const loaded = new Map<string, LoadedFunction>();
  for (const m of modules) loaded.set(m.name, { name: m.name, url: m.url, fn: check(m.entry, m.url, results.get(m.url) ?? { failed: 'was not loaded' }) });
  return loaded;
}

/** What a module's check found: its export, or a probe's account of it. */
type Loaded = { here: FaasFunction | undefined } | { probed: ProbeResult } | { failed: string };

/** Imports each module in this process (`--isolation inline`: they run here anyway). */
async function loadHere(modules: { url: string }[], timeoutMs: number): Promise<Map<string, Loaded>> {
  const out = new Map<string, Loaded>();
  for (const { url } of modules) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
    const imported = import(url).then(
      (m: { default?: FaasFunction }) => ({ here: m.default }),
      (err: unknown) => ({ probed: failure(err) }),
    );
    const result = await Promise.race([imported, late]);
    clearTimeout(timer);
    out.set(url, result === 'late' ? { failed: lateMessage(timeoutMs) } : result);
    if (result === 'late') break;
  }
  return out;
}

/** Imports the modules in a probe thread or process, one after the other, each within `timeoutMs`. */
function loadElsewhere(modules: { url: string }[], options: LoadOptions): Promise<Map<string, Loaded>> {
  const out = new Map<string, Loaded>();
  const urls = modules.map((m) => m.url);
  if (urls.length === 0) return Promise.resolve(out);
  return new Promise((resolveAll) => {
    let timer: NodeJS.Timeout | undefined;
    let stop: () => void = () => {};
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(lateMessage(options.timeoutMs)), options.timeoutMs);
    };
    /** Ends the probe; the first module without a verdict gets `why`. */
    const finish = (why: string | null) => {
      clearTimeout(timer);
      stop();
      const pending = urls.find((u) => !out.has(u));
      if (pending && why) out.set(pending, { failed: why });
      resolveAll(out);
    };
    const onMessage = (m: ProbeMessage) => {
      out.set(m.url, { probed: m.result });
      if (out.size === urls.length) finish(null);
      else arm();
    };
    const where = options.isolation === 'thread' ? 'thread' : 'process';
    const onExit = (how: string, code?: number | null) =>
      finish(
        // A thread whose module awaits what never comes has nothing left to run, and ends (0; 13 for a process).
        code === 0 || code === 13
          ? `did not finish loading: a top-level await that never settles? (its ${where} ended with nothing left to run)`
          : `ended its ${where} while loading (${how})`,
      );
    arm();
    if (options.isolation === 'thread') {
      const thread = new Worker(PROBE, {
        workerData: { probe: { urls } },
        resourceLimits: { maxOldGenerationSizeMb: options.memoryMb, maxYoungGenerationSizeMb: 32 },
        stdout: false,
      });
      thread.on('message', onMessage);
      thread.on('error', (err) => onExit(err.message));
      thread.on('exit', (code) => onExit(`exit code ${code}`, code));
      stop = () => {
        thread.removeAllListeners('exit');
        void thread.terminate();
      };
    } else {
      const child = fork(fileURLToPath(PROBE), ['probe', JSON.stringify({ urls })], {
        serialization: 'advanced',
        execArgv: [`--max-old-space-size=${options.memoryMb}`],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // Its group is killed whole, with whatever a module's top level forked.
        detached: true,
      });
      child.on('message', (m) => onMessage(m as ProbeMessage));
      child.on('error', (err) => onExit(err.message));
      child.on('exit', (code, signal) => onExit(signal ? `signal ${signal}` : `exit code ${code}`, code));
      stop = () => {
        child.removeAllListeners('exit');
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          if (child.pid !== undefined) killTrees([{ pid: child.pid, start: null }]);
        }
      };
    }
  });
}

const lateMessage = (timeoutMs: number) =>
  `did not finish loading within ${timeoutMs} ms (--timeout-ms): a top-level await that never settles, or a loop?`;

function failure(err: unknown): ProbeResult {
  const e = err instanceof Error ? err : new Error(String(err));
  return { ok: false, name: e.name, message: e.message, stack: e.stack ?? '' };
}

/** The module's export, checked; a UsageError naming the file otherwise. */
function check(entry: string, url: string, loaded: Loaded): FaasFunction {
  const fail = (why: string) => new UsageError(`function module ${entry} ${why}`);
  if ('failed' in loaded) throw fail(loaded.failed);
  if ('probed' in loaded && !loaded.probed.ok) throw fail(`failed to load: ${describeFailure(url, loaded.probed)}`);
  const fn = 'here' in loaded ? loaded.here : null;
  const shape = 'here' in loaded ? { hasRun: typeof fn?.run === 'function', mode: fn?.mode, contentType: fn?.contentType } : (loaded.probed as Extract<ProbeResult, { ok: true }>);
  if (!shape.hasRun) throw fail('must export default { run(args, context) }');
  if (shape.mode !== undefined && shape.mode !== 'inline' && shape.mode !== 'pool') throw fail("has a mode that is neither 'inline' nor 'pool'");
  if (shape.contentType !== undefined && typeof shape.contentType !== 'string') throw fail('has a contentType that is not a string');
  if (fn) return fn;
  // Loaded elsewhere: this copy only describes it; its calls run in instances.
  return {
    mode: shape.mode as FaasFunction['mode'],
    contentType: shape.contentType as string | undefined,
    run() {
      throw new Error(`function module ${entry} runs in its instances, not in the worker`);
    },
  };
}

/** One line: the error, and for a syntax error or one thrown at the top level, where in the file. */
function describeFailure(url: string, r: Extract<ProbeResult, { ok: false }>): string {
  const file = fileURLToPath(url);
  if (r.name === 'SyntaxError') {
    // node gives the location of a module's syntax error only to a process that fails on it.
    const checked = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
    const lines = (checked.stderr ?? '').split('\n');
    const at = lines.findIndex((l) => l.startsWith(file + ':'));
    if (at !== -1) return `SyntaxError: ${r.message} at line ${lines[at]!.slice(file.length + 1)}: ${lines[at + 1]?.trim() ?? ''}`;
    return `SyntaxError: ${r.message}`;
  }
  const frame = r.stack.split('\n').find((l) => l.includes(url));
  const where = frame ? / (?:\()?[^ ]*:(\d+):(\d+)\)?$/.exec(frame) : null;
  return `${r.name === 'Error' ? '' : `${r.name}: `}${r.message}${where ? ` (line ${where[1]})` : ''}`;
}
