/**
 * "Did you mean": the known name closest to a mistyped command or flag, and
 * the flags of a command line that its command does not know. Own code:
 * yargs suggests commands only, and does not export its distance function.
 */

/** Edits between a and b, a swap of two neighbours counting as one (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate `word` most likely meant: the closest within a few edits
 * (fewer for short words: `-x` suggests nothing), else the only
 * candidate it begins (`--conn` for --connections); null when none fits.
 */
export function closest(word: string, candidates: Iterable<string>): string | null {
  const limit = word.length < 3 ? 0 : word.length === 3 ? 1 : word.length <= 6 ? 2 : 3;
  let best: string | null = null;
  let bestDistance = limit + 1;
  const prefixed: string[] = [];
  for (const c of candidates) {
    const distance = editDistance(word.toLowerCase(), c.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [c, distance];
    if (word.length >= 3 && c.startsWith(word)) prefixed.push(c);
  }
  return best ?? (prefixed.length === 1 ? prefixed[0]! : null);
}

/** What yargs' getOptions() tells of a command's flags. */
export interface KnownOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
}

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The flags in `args` (a command line after the command's name) that the
 * command does not know, each with the known flag it most likely meant.
 * Values are not flags: a token that follows a flag without `=` may be
 * its value, so only tokens that start with a dash are read, up to `--`.
 */
export function unknownFlags(args: readonly string[], options: KnownOptions): { flag: string; suggestion: string | null }[] {
  const known = new Set<string>(['help', 'h', 'version']);
  for (const key of Object.keys(options.key)) known.add(key);
  for (const [key, aliases] of Object.entries(options.alias)) for (const a of [key, ...aliases]) known.add(a);
  for (const name of [...known]) known.add(camel(name));
  const booleans = new Set([...options.boolean, ...options.boolean.flatMap((b) => options.alias[b] ?? [])]);
  // Suggested in their long, kebab-case form only.
  const suggestable = [...known].filter((k) => k.length > 1 && !/[A-Z]/.test(k));
  const unknown: { flag: string; suggestion: string | null }[] = [];
  for (const token of args) {
    if (token === '--') break;
    // A negative number is a value (--rate -5 is refused by the flag itself).
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) continue;
    const long = token.startsWith('--');
    const name = token.slice(long ? 2 : 1).split('=')[0]!;
    if (known.has(name)) continue;
    if (long && name.startsWith('no-') && booleans.has(name.slice(3))) continue;
    const match = closest(name, suggestable);
    unknown.push({ flag: `${long ? '--' : '-'}${name}`, suggestion: match === null ? null : `--${match}` });
  }
  return unknown;
}

/** "Unknown option: --framwork. Did you mean --framework?" for one flag; a list for several. */
export function describeUnknownFlags(unknown: readonly { flag: string; suggestion: string | null }[]): string {
  if (unknown.length === 1) {
    const [{ flag, suggestion }] = unknown as [{ flag: string; suggestion: string | null }];
    return `Unknown option: ${flag}.${suggestion === null ? '' : ` Did you mean ${suggestion}?`}`;
  }
  return `Unknown options: ${unknown.map(({ flag, suggestion }) => (suggestion === null ? flag : `${flag} (did you mean ${suggestion}?)`)).join(', ')}.`;
}
