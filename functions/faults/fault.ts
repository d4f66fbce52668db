import type { FaasFunction } from '../../src/contract/function.js';
import { InputError } from '../../src/contract/function.js';

/**
 * Functions that misbehave on purpose, to measure how the testbed contains
 * them (after published stress tests of Go functions on AWS Lambda). Loaded only when the worker
 * runs with --allow-fault-functions. They run in the pool: a thread can be
 * stopped or lost without the worker process.
 */
const KINDS = ['loop', 'alloc', 'throw', 'exit'] as const;

const fault: FaasFunction = {
  mode: 'pool',
  run(args) {
    switch (args.kind) {
      case 'loop':
        for (;;) {
          // Never returns: stopped only by the time limit.
        }
      case 'alloc': {
        // JavaScript heap objects, so the thread's heap limit is what stops it.
        const hoard: unknown[] = [];
        for (;;) hoard.push({ filler: new Array(1024).fill(hoard.length) });
      }
      case 'throw':
        throw new Error('fault function threw on purpose');
      case 'exit':
        process.exit(3);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new InputError(`kind must be one of ${KINDS.join(', ')}`);
    }
  },
};
export default fault;
