/**
 * Seeded series of known properties for the statistics' tests: the same seed
 * always gives the same draws, so every test is deterministic.
 */
import normalRandom from '@stdlib/random-base-normal';
import exponentialRandom from '@stdlib/random-base-exponential';
import { seededRandom } from '../stats/random.js';

export function normals(seed: number): () => number {
  const draw = normalRandom.factory({ prng: seededRandom(seed) });
  return () => draw(0, 1);
}

/** Independent lognormal latencies around `median` (σ of the log 0.3), in ns. */
export function iidLatencies(n: number, seed: number, median = 1e6): Float64Array {
  const z = normals(seed);
  return Float64Array.from({ length: n }, () => median * Math.exp(0.3 * z()));
}

/** Gaussian AR(1): x_t = φ·x_{t−1} + √(1−φ²)·ε_t (unit variance), started from its stationary law. */
export function ar1(n: number, phi: number, seed: number): Float64Array {
  const z = normals(seed);
  const out = new Float64Array(n);
  let x = z();
  const s = Math.sqrt(1 - phi * phi);
  for (let t = 0; t < n; t++) {
    out[t] = x;
    x = phi * x + s * z();
  }
  return out;
}

/** Arrival times (ms) of a Poisson process of this rate per ms. */
export function poissonTimes(n: number, ratePerMs: number, seed: number): Float64Array {
  const draw = exponentialRandom.factory({ prng: seededRandom(seed) });
  const out = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) out[i] = t += draw(ratePerMs);
  return out;
}
