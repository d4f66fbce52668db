/**
 * Functions that call functions: what a nested call carries, however it
 * travels (inside the worker, over the RPC link, or back through a gateway
 * over HTTP), and the limits every role applies to it. docs/functions.md
 * ("Calling other functions") and docs/records.md describe it for users.
 *
 * A nested call's id is its parent's id and a counter (`R.2`, `R.2.1`), so
 * ids stay unique across processes with no coordination; it also carries
 * its parent's id, its depth (a call from the gateway is depth 0), what is
 * left of its parent's time limit, and the workflows on its path (to refuse
 * a cycle through them). Its trace id is the root request's.
 */

import { MAX_CALL_DEPTH_LIMIT, type Nesting } from '../rpc/protocol.js';

export { MAX_CALL_DEPTH_LIMIT, type Nesting } from '../rpc/protocol.js';

/** How a nested call travels. */
export type CallMode = 'local' | 'rpc' | 'http';
export const CALL_MODES: readonly CallMode[] = ['local', 'rpc', 'http'];

export const DEFAULT_MAX_CALL_DEPTH = 32;
export const DEFAULT_MAX_NESTED_CALLS = 512;

/** The id of a call's k-th nested call (k from 1). */
export const childId = (parent: string, k: number): string => `${parent}.${k}`;

/** Error codes of nested calls (replies and gateway answers). */
export const CompositionErrorCode = {
  /** The call would be deeper than --max-call-depth. */
  callDepthExceeded: 'call_depth_exceeded',
  /** The call would run a workflow already on its own path. */
  callCycle: 'call_cycle',
  /** The worker has --max-nested-calls nested calls in flight already. */
  tooManyCalls: 'too_many_calls',
} as const;

/**
 * The HTTP header of a nested call made through a gateway:
 * `x-faasbench-call: parent=R.1; depth=2; budget=29500; workflows=a,b`.
 * With it, a POST body is the call's arguments, msgpack-encoded (a function
 * calling another through the platform's API, its arguments intact).
 */
export const CALL_HEADER = 'x-faasbench-call';

const ID = /^[\w.:-]{1,128}$/;
const WORKFLOW = /^[a-z][a-z0-9_-]{0,99}$/;

export function formatCallHeader(n: Nesting): string {
  return `parent=${n.parent}; depth=${n.depth}; budget=${Math.max(0, Math.floor(n.budgetMs))}${n.workflows.length ? `; workflows=${n.workflows.join(',')}` : ''}`;
}

/** The header's nesting, or null when absent; throws a one-line Error when it is malformed. */
export function parseCallHeader(header: string | string[] | undefined): Nesting | null {
  if (header === undefined) return null;
  if (typeof header !== 'string') throw new Error(`${CALL_HEADER} is given more than once`);
  const fields = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) throw new Error(`${CALL_HEADER} must be "parent=ID; depth=N; budget=MS[; workflows=A,B]"`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const parent = fields.get('parent') ?? '';
  const depth = Number(fields.get('depth'));
  const budgetMs = Number(fields.get('budget'));
  const workflows = fields.get('workflows') ? fields.get('workflows')!.split(',') : [];
  if (!ID.test(parent)) throw new Error(`${CALL_HEADER}: parent must be a request id ([A-Za-z0-9_.:-], up to 128)`);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_CALL_DEPTH_LIMIT) throw new Error(`${CALL_HEADER}: depth must be an integer from 1 to ${MAX_CALL_DEPTH_LIMIT}`);
  if (!Number.isInteger(budgetMs) || budgetMs < 0) throw new Error(`${CALL_HEADER}: budget must be a whole number of ms`);
  if (workflows.length > MAX_CALL_DEPTH_LIMIT || !workflows.every((w) => WORKFLOW.test(w))) throw new Error(`${CALL_HEADER}: workflows must be workflow names separated by commas`);
  return { parent, depth, budgetMs, workflows };
}

/** Checks a nested call against the limits before it starts; the refusal's code and message, or null. */
export function refuseNested(
  fn: string,
  nesting: Nesting,
  limits: { maxDepth: number; isWorkflow: (name: string) => boolean },
): { code: string; message: string } | null {
  if (nesting.depth > limits.maxDepth) {
    return {
      code: CompositionErrorCode.callDepthExceeded,
      message: `the call of ${fn} from ${nesting.parent} would be at depth ${nesting.depth}, over the limit of ${limits.maxDepth} (--max-call-depth)`,
    };
  }
  if (limits.isWorkflow(fn) && nesting.workflows.includes(fn)) {
    const path = [...nesting.workflows.slice(nesting.workflows.indexOf(fn)), fn];
    return { code: CompositionErrorCode.callCycle, message: `workflow ${fn} would call itself: ${path.join(' → ')}` };
  }
  return null;
}
