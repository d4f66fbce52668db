/**
 * Workflow definitions: one YAML or JSON file per workflow, checked against
 * schemas/workflow.schema.json and compiled into a dependency graph of calls
 * (steps), each knowing what data it is given. docs/composition.md,
 * "Workflows", is the user's description; keep the two in step.
 *
 * The definition nests sequences and parallel blocks, so a graph made from
 * it cannot have a cycle; a cycle can only pass through names (a workflow
 * whose step calls a workflow that calls the first), which
 * checkWorkflowCycles() refuses at load and the worker refuses at run time.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { schemaValidator, type Validator } from '../schemas.js';

/** Where a step's data comes from: the workflow's arguments, a step's result, or a parallel block's results. */
export type Ref = { input: true } | { step: number } | { items: Ref[] };

export interface Step {
  /** Position in `steps`; also the order of the definition. */
  index: number;
  /** The step's id, or its place in the definition (`steps[1].parallel[0]`): what errors name. */
  name: string;
  fn: string;
  /** Merged over the data passed in. */
  args: Record<string, unknown> | null;
  input: Ref;
  /** Steps whose results this one needs (ascending). */
  deps: number[];
  /** Steps that need this one's result. */
  next: number[];
}

export interface Workflow {
  name: string;
  description: string | null;
  steps: Step[];
  output: Ref;
  /** Every function or workflow name a step calls. */
  calls: Set<string>;
}

export class WorkflowError extends Error {
  override name = 'WorkflowError';
}

/** Steps of one workflow at most, `times` expanded: a bound on the work one request can start. */
export const MAX_STEPS = 10_000;
export const WORKFLOW_EXTENSIONS = ['.yaml', '.yml', '.json'];
const NAME = /^[a-z][a-z0-9_-]*$/;

type Item = string | { fn: string; args?: Record<string, unknown>; id?: string; times?: number } | { parallel: Item[]; times?: number } | { sequence: Item[]; times?: number };

let validator: Validator | null = null;

/** Checks a parsed definition against the schema and compiles it; errors name the workflow and the key. */
export function compileWorkflow(name: string, raw: unknown): Workflow {
  if (!NAME.test(name)) throw new WorkflowError(`workflow name ${JSON.stringify(name)} must be a lowercase letter, then lowercase letters, digits, _ or -`);
  validator ??= schemaValidator('workflow');
  const problem = validator(raw);
  if (problem !== null) throw new WorkflowError(`workflow ${name}: ${problem}`);
  const def = raw as { description?: string; steps: Item[] };
  const steps: Step[] = [];
  const ids = new Set<string>();
  const fail = (why: string) => new WorkflowError(`workflow ${name}: ${why}`);

  const addCall = (item: Extract<Item, { fn: string }>, input: Ref, where: string): Ref => {
    if (steps.length >= MAX_STEPS) throw fail(`has more than ${MAX_STEPS} steps (times included)`);
    const stepName = item.id ?? where;
    if (item.id !== undefined) {
      if (ids.has(stepName)) throw fail(`step id ${JSON.stringify(item.id)} is used twice (a step with times gets #1, #2, … after its id)`);
      ids.add(stepName);
    }
    const index = steps.length;
    steps.push({ index, name: stepName, fn: item.fn, args: item.args ?? null, input, deps: stepsOf(input), next: [] });
    return { step: index };
  };

  /** Compiles one item given `input`; returns where its result comes from. */
  const compileItem = (item: Item, input: Ref, where: string): Ref => {
    if (typeof item === 'string') return addCall({ fn: item }, input, where);
    if ('fn' in item) return addCall(item, input, where);
    if ('parallel' in item) return compileList(item.parallel, input, `${where}.parallel`, 'parallel');
    return compileList(item.sequence, input, `${where}.sequence`, 'sequence');
  };

  const compileList = (items: Item[], input: Ref, where: string, kind: 'sequence' | 'parallel'): Ref => {
    let ref = input;
    const results: Ref[] = [];
    items.forEach((item, i) => {
      const times = typeof item === 'object' ? (item.times ?? 1) : 1;
      for (let k = 1; k <= times; k++) {
        const at = times === 1 ? `${where}[${i}]` : `${where}[${i}]#${k}`;
        // A copy's id gets #k, so that every step's name stays unique.
        const copy = times > 1 && typeof item === 'object' && 'fn' in item && item.id !== undefined ? { ...item, id: `${item.id}#${k}` } : item;
        if (kind === 'sequence') ref = compileItem(copy, ref, at);
        else results.push(compileItem(copy, input, at));
      }
    });
    return kind === 'sequence' ? ref : { items: results };
  };

  const output = compileList(def.steps, { input: true }, 'steps', 'sequence');
  for (const s of steps) for (const d of s.deps) steps[d]!.next.push(s.index);
  return { name, description: def.description ?? null, steps, output, calls: new Set(steps.map((s) => s.fn)) };
}

/** The steps a reference reads, ascending, each once. */
export function stepsOf(ref: Ref): number[] {
  const out = new Set<number>();
  const walk = (r: Ref) => {
    if ('step' in r) out.add(r.step);
    else if ('items' in r) r.items.forEach(walk);
  };
  walk(ref);
  return [...out].sort((a, b) => a - b);
}

/** Parses one definition file (YAML or JSON by its extension) and compiles it under the file's name. */
export async function loadWorkflowFile(file: string): Promise<Workflow> {
  const ext = extname(file).toLowerCase();
  const name = basename(file, extname(file));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WorkflowError(`cannot read the workflow ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new WorkflowError(`workflow ${name}: ${basename(file)} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return compileWorkflow(name, raw);
}

/** Every workflow of a directory (files ending .yaml, .yml or .json); refuses a cycle through workflow names. */
export async function loadWorkflows(dir: string): Promise<Map<string, Workflow>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new WorkflowError(`cannot read the workflows directory ${dir}: ${(err as Error).message}`);
  }
  const out = new Map<string, Workflow>();
  for (const entry of entries.sort()) {
    if (!WORKFLOW_EXTENSIONS.includes(extname(entry).toLowerCase())) continue;
    const wf = await loadWorkflowFile(join(dir, entry));
    if (out.has(wf.name)) throw new WorkflowError(`workflow ${wf.name} is defined twice in ${dir}`);
    out.set(wf.name, wf);
  }
  checkWorkflowCycles(out);
  return out;
}

/**
 * Refuses workflows that call themselves through workflow names (a → b → a):
 * run, such a workflow would start calls until a limit stopped it. A step
 * that names a function may still call a workflow at run time; the worker
 * refuses that cycle when it happens (call_cycle).
 */
export function checkWorkflowCycles(workflows: ReadonlyMap<string, Workflow>): void {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'open') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new WorkflowError(`workflow ${name} calls itself: ${cycle.join(' → ')}`);
    }
    state.set(name, 'open');
    path.push(name);
    for (const callee of workflows.get(name)!.calls) if (workflows.has(callee)) visit(callee);
    path.pop();
    state.set(name, 'done');
  };
  for (const name of [...workflows.keys()].sort()) visit(name);
}
