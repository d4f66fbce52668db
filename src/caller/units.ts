/** Parsing of the caller's command-line values: connection lists and headers (durations: flags.ts). */

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
