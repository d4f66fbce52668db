import type { FaasFunction } from '../src/worker/contract.js';

/** Does nothing: the reference point for every other function. */
const empty: FaasFunction = {
  run: () => ({}),
};
export default empty;
