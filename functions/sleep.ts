import { setTimeout as delay } from 'node:timers/promises';
import type { FaasFunction } from '../src/contract/function.js';
import { InputError } from '../src/contract/function.js';

/** Waits `ms` milliseconds: a function that occupies no CPU while it runs. */
const sleep: FaasFunction = {
  async run(args, { signal }) {
    const ms = args.ms ?? 1000;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 25_000) {
      throw new InputError('ms must be an integer from 0 to 25000, below the default time limit of 30 s');
    }
    await delay(ms, undefined, { signal });
    return { slept_ms: ms };
  },
};
export default sleep;
