/** Flags of a benchmark script: parsed strictly; a usage error is one line and exit 2; --help prints the usage. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseIntegerFlag } from '../flags.js';

export function usageError(script: string, usage: string): (message: string) => never {
  return (message) => {
    process.stderr.write(`${script}: ${message}\n${usage}\n`);
    process.exit(2);
  };
}

export function scriptArgs<T extends ParseArgsConfig>(config: T, usage: string, fail: (message: string) => never): ReturnType<typeof parseArgs<T>>['values'] {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    fail((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values;
}

/** A whole number from `min` to `max`, read as the faasbench commands read theirs (flags.ts). */
export function integerFlag(name: string, value: string, min: number, max: number, fail: (message: string) => never): number {
  try {
    return parseIntegerFlag(name, value, { min, max });
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** A comma-separated list, each item one of `allowed`. */
export function listFlag<T extends string>(name: string, value: string, allowed: readonly T[], fail: (message: string) => never): T[] {
  const items = value.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const unknown = items.filter((x) => !(allowed as readonly string[]).includes(x));
  if (items.length === 0 || unknown.length > 0) fail(`--${name} takes a comma-separated list of ${allowed.join(', ')}; got ${JSON.stringify(value)}`);
  return items as T[];
}
