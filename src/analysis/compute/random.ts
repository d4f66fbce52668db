/**
 * The seeded uniform PRNG of the analysis and the Beta draws the bootstrap
 * needs. Seeded so the same records always give the same confidence intervals.
 */
import betaRandom from '@stdlib/random-base-beta';

/** mulberry32: 32-bit state, fast, good enough for resampling. Returns [0, 1). */
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

type BetaSampler = (a: number, b: number) => number;
const samplers = new WeakMap<() => number, BetaSampler>();

/** Beta(a, b), drawn by stdlib from the uniform stream `random`, so a seed fixes every draw. */
export function beta(random: () => number, a: number, b: number): number {
  let sample = samplers.get(random);
  if (!sample) samplers.set(random, (sample = betaRandom.factory({ prng: random })));
  return sample(a, b);
}
