/**
 * The coordinator function (seed 004's baseline): a workflow run by a
 * function like any other, in an instance of its own (or inline), making
 * each step with ctx.call. The worker serves a workflow through it under
 * `--coordinator function`, passing the compiled workflow with each call;
 * the same engine as the worker's then runs from inside a function, so the
 * two differ only in where the coordinator runs.
 */
import type { FaasFunction } from '../contract/function.js';
import type { Workflow } from './definition.js';
import { runWorkflow } from './engine.js';

/** The arguments the worker gives it. */
export interface CoordinatorArgs {
  workflow: Workflow;
  input: Record<string, unknown>;
}

const coordinator: FaasFunction = {
  run(args, ctx) {
    const { workflow, input } = args as unknown as CoordinatorArgs;
    return runWorkflow(workflow, input, { call: (step, a) => ctx.call(step.fn, a, { step: step.name }) });
  },
};
export default coordinator;
