import type { FaasFunction } from '../src/contract/function.js';

/**
 * Does nothing: the reference point for every other function. With
 * `instance` set (GET /empty?instance=1) it answers the id of the instance
 * that ran it, as seed 002's test function does.
 */
const empty: FaasFunction = {
  run: (args, context) => (args.instance ? { instance: context.instance } : {}),
};
export default empty;
