/**
 * The seeded uniform PRNG of the analysis and the Beta draws the bootstrap
 * needs. Seeded so the same records always give the same confidence intervals.
 */
import betaRandom from '@stdlib/random-base-beta';

export { seededRandom } from '../../stats/random.js';

type BetaSampler = (a: number, b: number) => number;
const samplers = new WeakMap<() => number, BetaSampler>();

/** Beta(a, b), drawn by stdlib from the uniform stream `random`, so a seed fixes every draw. */
export function beta(random: () => number, a: number, b: number): number {
  let sample = samplers.get(random);
  if (!sample) samplers.set(random, (sample = betaRandom.factory({ prng: random })));
  return sample(a, b);
}
