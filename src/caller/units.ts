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

/**
 * --url values, each possibly a comma-separated list. A comma splits only
 * before another http:// or tcp:// URL, so a query such as ?x=1,2 stays whole.
 */
export function splitUrls(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(/,(?=\s*(?:http|tcp):\/\/)/i)).map((v) => v.trim());
}

/**
 * A wall-clock start time: ISO 8601 with a zone (Z or ±hh:mm), so that every
 * host reads the same instant, or seconds since the epoch (decimals allowed).
 * Milliseconds since the epoch.
 */
export function parseStartAt(text: string): number {
  const t = text.trim();
  if (/^\d{1,12}(\.\d{1,9})?$/.test(t)) return Math.round(Number(t) * 1000);
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;
  const ms = iso.test(t) ? Date.parse(t) : NaN;
  if (!Number.isFinite(ms)) {
    throw new Error(`--start-at must be an ISO 8601 time with a zone (2026-11-26T17:00:00Z) or seconds since the epoch, got ${JSON.stringify(text)}`);
  }
  return ms;
}
