/**
 * The seeded uniform PRNG shared by the analysis (bootstrap), the caller
 * (Poisson arrivals) and the tests: the same seed always gives the same draws.
 */

/** mulberry32: 32-bit state, fast, good enough for resampling and arrival times. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
