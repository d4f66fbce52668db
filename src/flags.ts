/**
 * The one validator of every numeric and duration command-line flag: yargs `coerce`
 * functions that read a plain decimal integer (no hex, exponent, sign or empty
 * string, which yargs' own number parsing would accept) and check it against
 * the range the program can really honour. A bad value becomes one line and
 * exit 2 through cli.ts.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10s", "500ms", "1.5m", "2h"; a bare number is seconds (as in autocannon and wrk). */
export function parseDuration(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new Error(`${name} must be a duration such as 10s, 500ms or 2m, got ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] as number);
}

/** The longest delay a node timer keeps: beyond it setTimeout fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface IntegerRange {
  min: number;
  max: number;
}

/** Parses `raw` (a string, or a default given as a number) as an integer in range; throws with the flag's name. */
export function parseIntegerFlag(flag: string, raw: unknown, { min, max }: IntegerRange): number {
  if (Array.isArray(raw)) throw new Error(`--${flag} is given more than once`);
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new Error(`--${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(String(raw)).slice(0, 60)}`);
  }
  return value;
}

interface IntegerOption {
  type: 'string';
  number: true;
  describe: string;
  coerce: (raw: unknown) => number;
}

/** A yargs option: an integer flag read strictly, with its range in the help text. */
export function integerOption(flag: string, range: IntegerRange, describe: string): IntegerOption;
export function integerOption(flag: string, range: IntegerRange, describe: string, defaultValue: number): IntegerOption & { default: number };
export function integerOption(flag: string, range: IntegerRange, describe: string, defaultValue?: number): IntegerOption {
  return {
    // Parsed as a string, so that coerce sees what was typed (yargs would
    // read "0x10" or "" as a number); listed as [number] in the help, since
    // yargs names the type by the last of its lists that holds the key.
    type: 'string',
    number: true,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    describe: `${describe} [${range.min}..${range.max}]`,
    coerce: (raw: unknown): number => parseIntegerFlag(flag, raw, range),
  };
}

/**
 * A server role's --max-inflight and --max-inflight-per-connection (gateway:
 * requests, worker: calls), for yargs' .options(): `beyond` says what the
 * role answers to one more.
 */
export function inflightOptions(what: string, role: string, beyond: string, limits: { maxInflight: number; maxInflightPerConnection: number }) {
  const range = { min: 1, max: 1_000_000 };
  return {
    'max-inflight': integerOption('max-inflight', range, `${what} in flight in the ${role} at once (${beyond})`, limits.maxInflight),
    'max-inflight-per-connection': integerOption('max-inflight-per-connection', range, `${what} in flight on one client connection (${beyond})`, limits.maxInflightPerConnection),
  };
}

/** A TCP port to listen on; 0 picks a free one. */
export const LISTEN_PORT: IntegerRange = { min: 0, max: 65535 };
/** A time limit in milliseconds that a node timer can honour. */
export const TIMER_MS: IntegerRange = { min: 1, max: MAX_TIMER_MS };

/** A duration flag ("10s", "500ms", "2m"; a bare number is seconds) in milliseconds, within `range`. */
export function parseDurationFlag(flag: string, text: string, { min, max }: IntegerRange): number {
  const ms = parseDuration(text, `--${flag}`);
  if (!(ms >= min && ms <= max)) {
    throw new Error(`--${flag} must be from ${min} ms to ${max} ms (${Math.floor(max / 86_400_000)} days), got ${JSON.stringify(text)}`);
  }
  return ms;
}
