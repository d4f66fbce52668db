/** Parsing of the caller's command-line values: durations and connection lists. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10s", "500ms", "1.5m", "2h"; a bare number is seconds (as in autocannon and wrk). */
export function parseDuration(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new Error(`${name} must be a duration such as 10s, 500ms or 2m, got ${JSON.stringify(text)}`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] as number);
}

/** "150" or "1,10,50": positive integers, at most 10000 each. */
export function parseConnections(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const counts = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (counts.some((c) => !(c >= 1 && c <= 10_000))) {
    throw new Error(`--connections must be a count from 1 to 10000, or a comma-separated list of them; got ${JSON.stringify(text)}`);
  }
  return counts;
}

/** "name: value" -> [name, value]. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new Error(`--header must look like "name: value", got ${JSON.stringify(text)}`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}
