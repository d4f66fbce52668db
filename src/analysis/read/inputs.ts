/**
 * Finds the record files (*.ndjson, *.jsonl, either gzipped) and run.json files under the
 * input directories, recursively. File names mean nothing: each line's
 * `role` says what it is, so the hosts' logs can be collected any way.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface InputFile {
  path: string;
  bytes: number;
}

export interface RunMeta {
  path: string;
  /** The parsed run.json, or null when it did not parse. */
  meta: unknown;
  error?: string;
}

export interface Inputs {
  files: InputFile[];
  runs: RunMeta[];
}

/** A problem with what the user asked for (missing directory, no records): exit 2, no stack trace. */
export class AnalysisInputError extends Error {
  override name = 'AnalysisInputError';
}

const RECORD_FILE = /\.(ndjson|jsonl)(\.gz)?$/i;

export async function findInputs(dirs: readonly string[], skip: readonly string[] = []): Promise<Inputs> {
  if (dirs.length === 0) throw new AnalysisInputError('name at least one directory of records');
  const skipped = new Set(skip.map((d) => resolve(d)));
  const files: InputFile[] = [];
  const runs: RunMeta[] = [];
  const seen = new Set<string>();
  for (const dir of dirs) {
    const info = await stat(dir).catch(() => null);
    if (!info) throw new AnalysisInputError(`no such directory: ${dir}`);
    // A single file is accepted too: handy for `analyze caller.ndjson`.
    if (info.isFile()) {
      const path = resolve(dir);
      if (!seen.has(path)) files.push({ path, bytes: info.size });
      seen.add(path);
      continue;
    }
    if (!info.isDirectory()) throw new AnalysisInputError(`not a directory: ${dir}`);
    await walk(resolve(dir), skipped, seen, files, runs);
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  runs.sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path));
  return { files, runs };
}

async function walk(dir: string, skipped: Set<string>, seen: Set<string>, files: InputFile[], runs: RunMeta[]) {
  if (skipped.has(dir)) return;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(path, skipped, seen, files, runs);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (seen.has(path)) continue;
      if (RECORD_FILE.test(entry.name)) {
        const info = await stat(path).catch(() => null);
        if (info?.isFile()) {
          seen.add(path);
          files.push({ path, bytes: info.size });
        }
      } else if (entry.name === 'run.json') {
        seen.add(path);
        runs.push(await readRunMeta(path));
      }
    }
  }
}

async function readRunMeta(path: string): Promise<RunMeta> {
  try {
    return { path, meta: JSON.parse(await readFile(path, 'utf8')) as unknown };
  } catch (err) {
    return { path, meta: null, error: (err as Error).message };
  }
}

const depth = (path: string) => path.split(/[\\/]/).length;
