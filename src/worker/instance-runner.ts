/**
 * Calls in instances (`--isolation thread|process`): each in an instance of
 * its own function (instances.ts), started cold on demand and reused warm.
 */
import type { ResultForm } from '../rpc/protocol.js';
import { now } from '../trace/clock.js';
import { Instances, type InstancesOptions } from './instances.js';
import { outcomeOf, type Executed, type Limits, type Runner } from './outcome.js';
import type { LoadedFunction } from './registry.js';

export class InstanceRunner implements Runner {
  readonly instances: Instances;

  constructor(
    functions: Iterable<LoadedFunction>,
    options: InstancesOptions,
    private readonly limits: Limits,
  ) {
    this.instances = new Instances(functions, options);
  }

  async run(loaded: LoadedFunction, args: Record<string, unknown>, form: ResultForm): Promise<Executed> {
    const handedOver = now();
    const run = await this.instances.run(loaded, args, form);
    if (!run.ok) {
      // No stamps from the instance: the stage then includes the wait and any cold start.
      return { outcome: { err: { code: run.error.code, message: run.error.message }, t3_start: handedOver, t3_end: now() }, instance: run.use };
    }
    return { outcome: outcomeOf(run.result, loaded.name, this.limits), instance: run.use };
  }

  close(): Promise<void> {
    return this.instances.close();
  }
}
