/** Flags of a benchmark script: parsed strictly; a usage error is one line and exit 2; --help prints the usage. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

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
