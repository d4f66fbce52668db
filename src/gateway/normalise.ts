/**
 * One reading of the request target for all five frameworks. Left to
 * themselves they disagree: hono resolves dot segments (`/image/../empty` is
 * `/empty`), fastify and hono decode `%65` to `e`, the others do neither. The
 * gateway therefore normalises the path once, before any framework sees it,
 * as RFC 3986 allows: percent-encoded unreserved characters are decoded
 * (section 6.2.2.2) and dot segments removed (section 5.2.4). Nothing else is
 * touched: not the query, not an encoded `/` (%2F), not an absolute-form
 * target. Most targets need nothing, at the cost of two searches.
 */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** The target with its path normalised; the same string when there is nothing to do. */
export function normaliseTarget(target: string): string {
  if (target.charCodeAt(0) !== 47 /* '/' */) return target;
  const q = target.indexOf('?');
  const end = q === -1 ? target.length : q;
  const pct = target.indexOf('%');
  const dot = target.indexOf('/.');
  if ((pct === -1 || pct >= end) && (dot === -1 || dot >= end)) return target;
  let path = target.slice(0, end);
  if (pct !== -1 && pct < end) {
    path = path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(c) ? c : escape;
    });
  }
  return removeDotSegments(path) + target.slice(end);
}

/** RFC 3986 5.2.4 for a path that starts with '/'. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      if (last) out.push('');
    } else {
      out.push(s);
    }
  }
  return '/' + out.join('/');
}
