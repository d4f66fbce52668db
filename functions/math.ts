import type { FaasFunction } from '../src/contract/function.js';
import { InputError } from '../src/contract/function.js';

/**
 * Estimates π by Monte Carlo from `n` random points in the unit square: the
 * original report's CPU-bound function. Runs in the worker-thread pool so that a
 * large n does not stall the calls around it.
 */
const math: FaasFunction = {
  mode: 'pool',
  run(args) {
    const n = args.n ?? 100_000;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      throw new InputError('n must be an integer from 1 to 2^53-1');
    }
    let inside = 0;
    for (let i = 0; i < n; i++) {
      const x = Math.random();
      const y = Math.random();
      if (x * x + y * y <= 1) inside++;
    }
    return { pi: (4 * inside) / n, n };
  },
};
export default math;
