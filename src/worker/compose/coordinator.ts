/**
 * The worker's workflow engine: a workflow called like a function runs on
 * the worker's own event loop, its steps made as nested calls of the call
 * that asked for it. Its record's `function` stage is the whole workflow;
 * the limit is the call's own (--timeout-ms, or what its parent left it).
 */
import { performance } from 'node:perf_hooks';
import { ReplyErrorCode } from '../../rpc/protocol.js';
import type { CallOutcome } from '../../rpc/server.js';
import { now } from '../../trace/clock.js';
import type { Workflow } from '../../workflow/definition.js';
import { runWorkflow, StepFailed, type BootAhead } from '../../workflow/engine.js';
import { callDone, failure, type CallOrigin, type Composer } from './composer.js';

export interface Coordination {
  composer: Composer;
  bootAhead: BootAhead;
  /** Boot an instance of `fn` ahead of its call (boot-ahead). */
  boot(fn: string): void;
}

/** Never rejects: a failing step, or the limit, is the outcome's error. */
export function coordinate(c: Coordination, origin: CallOrigin, wf: Workflow, args: Record<string, unknown>, limitMs: number): Promise<CallOutcome> {
  const t3_start = now();
  const deadline = performance.now() + limitMs;
  const run = runWorkflow(
    wf,
    args,
    {
      call: (step, a) => c.composer.call(origin, deadline, step.fn, a, step.name).answer.then((ans) => (ans.ok ? ans.value : Promise.reject(failure(ans)))),
      boot: (fn) => c.boot(fn),
    },
    c.bootAhead,
  );
  return new Promise<CallOutcome>((resolve) => {
    const timer = setTimeout(() => {
      resolve({ err: { code: ReplyErrorCode.functionTimeout, message: `workflow ${wf.name} ran past its limit of ${limitMs} ms` }, t3_start, t3_end: now() });
      callDone(origin);
    }, limitMs);
    run.then(
      (value) => {
        const t3_end = now();
        clearTimeout(timer);
        callDone(origin);
        resolve(value instanceof Uint8Array ? { result: value, ctype: 'application/octet-stream', t3_start, t3_end } : { result: value ?? null, t3_start, t3_end });
      },
      (err: unknown) => {
        const t3_end = now();
        clearTimeout(timer);
        callDone(origin);
        const e = err instanceof StepFailed ? err : null;
        resolve({ err: { code: e?.code ?? ReplyErrorCode.functionError, message: e?.message ?? `workflow ${wf.name} failed: ${String(err)}` }, t3_start, t3_end });
      },
    );
  });
}
