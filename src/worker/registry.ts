import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../usage-error.js';
import type { FaasFunction } from '../contract/function.js';

export interface LoadedFunction {
  name: string;
  /** file: URL of the module, for worker threads to import it again. */
  url: string;
  fn: FaasFunction;
}

const MODULE_EXTENSIONS = new Set(['.js', '.mjs']);
const NAME = /^[a-z][a-z0-9_-]*$/;

/** The functions that ship with faasbench, compiled beside this package. */
export const defaultFunctionsDir = resolve(new URL('../../functions', import.meta.url).pathname);
/** The misbehaving functions, loaded only on request. */
export const faultFunctionsDir = join(defaultFunctionsDir, 'faults');

/**
 * Loads every function module of a directory. A module that fails to load, or
 * whose default export is not a function object, stops the worker at start
 * with a message naming the file: better than a 502 on every call later.
 */
export async function loadFunctions(dir: string): Promise<Map<string, LoadedFunction>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new UsageError(`cannot read the functions directory ${dir}: ${(err as Error).message}`);
  }
  const loaded = new Map<string, LoadedFunction>();
  for (const entry of entries.sort()) {
    const ext = extname(entry);
    if (!MODULE_EXTENSIONS.has(ext) || entry.endsWith('.test.js')) continue;
    const name = basename(entry, ext);
    if (!NAME.test(name)) continue;
    const url = pathToFileURL(join(dir, entry)).href;
    let mod: { default?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new Error(`function module ${entry} failed to load: ${(err as Error).message}`);
    }
    const fn = mod.default as FaasFunction | undefined;
    if (!fn || typeof fn.run !== 'function') {
      throw new Error(`function module ${entry} must export default { run(args, context) }`);
    }
    if (fn.mode !== undefined && fn.mode !== 'inline' && fn.mode !== 'pool') {
      throw new Error(`function module ${entry}: mode must be 'inline' or 'pool'`);
    }
    loaded.set(name, { name, url, fn });
  }
  return loaded;
}
