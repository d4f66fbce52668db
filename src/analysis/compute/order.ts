/** Presentation order: the baseline framework first, then the original report's endpoint order; unknown names after, sorted. */
export const FRAMEWORK_ORDER = ['node', 'fastify', 'express', 'koa', 'hono'];
export const ENDPOINT_ORDER = ['empty', 'sleep', 'math', 'image'];

export function orderBy(known: readonly string[]): (a: string, b: string) => number {
  const rank = (x: string) => {
    const i = known.indexOf(x);
    return i === -1 ? known.length : i;
  };
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

export const byFramework = orderBy(FRAMEWORK_ORDER);
export const byEndpoint = orderBy(ENDPOINT_ORDER);
