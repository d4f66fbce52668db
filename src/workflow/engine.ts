/**
 * The coordinator: runs a compiled workflow's steps as their data becomes
 * ready (a step starts the moment every step it reads has answered), passes
 * each step its data, and fails the workflow, naming the step, at the first
 * step that fails. Pure: how a step's call travels is the runner's business,
 * so the same engine runs in the worker (the workflow engine) and inside a
 * function (the coordinator function of seed 004).
 */
import type { Ref, Step, Workflow } from './definition.js';

/**
 * Seed 004's scheduler policy: boot a step's function ahead of its call, so
 * that a cold start overlaps the steps before it. `next`: when a step
 * starts, the functions of the steps that wait for it; `all`: every function
 * of the workflow when it starts.
 */
export type BootAhead = 'none' | 'next' | 'all';
export const BOOT_AHEAD: readonly BootAhead[] = ['none', 'next', 'all'];

export interface StepRunner {
  /** Calls one step; rejects with an Error whose `code` (when it has one) is the step's error code. */
  call(step: Step, args: Record<string, unknown>): Promise<unknown>;
  /** Asked to have an instance of `fn` ready soon (boot-ahead). */
  boot?(fn: string): void;
}

/** A step failed: the workflow fails with the step's code, and the message names the step. */
export class StepFailed extends Error {
  override name = 'StepFailed';
  constructor(
    readonly workflow: string,
    readonly step: Step,
    readonly code: string,
    cause: string,
  ) {
    super(`workflow ${workflow}: step ${step.name} (${step.fn}) failed: ${cause}`);
  }
}

/** The arguments of a call: the data passed in (a map as it is, anything else as {value}), with the step's own args over it. */
export function argsOf(step: Step, data: unknown): Record<string, unknown> {
  const base = isMap(data) ? data : { value: data };
  return step.args === null ? base : { ...base, ...step.args };
}

function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function resolveRef(ref: Ref, results: readonly unknown[], input: unknown): unknown {
  if ('input' in ref) return input;
  if ('step' in ref) return results[ref.step];
  return { items: ref.items.map((r) => resolveRef(r, results, input)) };
}

/** Runs the workflow; resolves its result (the last step's, or a parallel block's {items}), rejects with StepFailed. */
export function runWorkflow(wf: Workflow, input: Record<string, unknown>, runner: StepRunner, bootAhead: BootAhead = 'none'): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const { steps } = wf;
    const waiting = steps.map((s) => s.deps.length);
    const results: unknown[] = new Array(steps.length);
    const booted = new Set<number>();
    let left = steps.length;
    let failed = false;

    const fail = (s: Step, err: unknown) => {
      if (failed) return;
      failed = true;
      const e = err instanceof Error ? err : new Error(String(err));
      const { code } = e as { code?: unknown };
      reject(new StepFailed(wf.name, s, typeof code === 'string' ? code : 'function_error', e.message));
    };

    const start = (s: Step) => {
      if (bootAhead === 'next' && runner.boot) {
        // The step that frees an instance of the same function needs no other.
        for (const t of s.next) if (!booted.has(t) && steps[t]!.fn !== s.fn) booted.add(t), runner.boot(steps[t]!.fn);
      }
      let call: Promise<unknown>;
      try {
        call = runner.call(s, argsOf(s, resolveRef(s.input, results, input)));
      } catch (err) {
        return fail(s, err);
      }
      call.then(
        (value) => {
          if (failed) return;
          results[s.index] = value;
          if (--left === 0) return resolve(resolveRef(wf.output, results, input));
          for (const t of s.next) if (--waiting[t]! === 0) start(steps[t]!);
        },
        (err: unknown) => fail(s, err),
      );
    };

    const first = steps.filter((s) => s.deps.length === 0);
    if (bootAhead === 'all' && runner.boot) {
      const now = new Set(first.map((s) => s.fn));
      for (const fn of new Set(steps.map((s) => s.fn))) if (!now.has(fn)) runner.boot(fn);
    }
    for (const s of first) {
      if (failed) break;
      start(s);
    }
  });
}

/**
 * The longest chain of steps that wait for one another (by count): what a
 * workflow's latency is at least, whatever runs in parallel. A sequence of
 * n has n; a fan-out of n followed by a fan-in step has 2.
 */
export function depthOf(wf: Workflow): number {
  const depth: number[] = [];
  for (const s of wf.steps) depth[s.index] = 1 + Math.max(0, ...s.deps.map((d) => depth[d]!));
  return Math.max(0, ...depth);
}
