/**
 * Calls in instances (`--isolation thread|process`): each in an instance of
 * its own function (instances.ts), started cold on demand and reused warm.
 */
import { now } from '../trace/clock.js';
import type { OutgoingCall } from '../trace/records.js';
import { Instances, type InstancesOptions, type NestedFromHost } from './instances.js';
import { outcomeOf, type Executed, type Limits, type NestedCalls, type Runner, type RunSpec } from './outcome.js';
import type { LoadedFunction } from './registry.js';

export class InstanceRunner implements Runner {
  readonly instances: Instances;

  constructor(
    functions: Iterable<LoadedFunction>,
    options: InstancesOptions,
    private readonly limits: Limits,
    /** Makes the ctx.calls of the functions in instances; without it they are refused. */
    private readonly nested: NestedCalls | undefined,
  ) {
    this.instances = new Instances(functions, options);
  }

  async run(loaded: LoadedFunction, args: Record<string, unknown>, { form, limit, origin, cancel }: RunSpec): Promise<Executed> {
    const handedOver = now();
    // ctx.call from the instance: made here on its behalf; its records by the host's ids, for the stamps the host sends back.
    const made = new Map<number, OutgoingCall>();
    const nested = this.nested;
    const onCall: NestedFromHost | undefined =
      nested && origin
        ? (m, reply) => {
            const { record, answer } = nested.call(origin, limit.deadline, m.fn, m.args, m.step, m.c_send);
            made.set(m.id, record);
            void answer.then(reply);
          }
        : undefined;
    const run = await this.instances.run(loaded, args, form, limit.ms, onCall, cancel);
    if (!run.ok) {
      // No stamps from the instance: the stage then includes the wait and any cold start.
      return { outcome: { err: { code: run.error.code, message: run.error.message }, t3_start: handedOver, t3_end: now() }, instance: run.use };
    }
    // The host stamped when each answer reached the function's thread: that, not when it left here, ends the hop.
    for (const [id, c_recv] of run.result.calls ?? []) {
      const record = made.get(id);
      if (record) record.c_recv = c_recv;
    }
    return { outcome: outcomeOf(run.result, loaded.name, this.limits), instance: run.use };
  }

  close(): Promise<void> {
    return this.instances.close();
  }
}
