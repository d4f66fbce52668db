/**
 * The composition experiments (issue 33, seed 004): functions that call
 * functions, through workflows the run writes for itself. Each variant (how
 * the nested calls travel, who coordinates, the boot-ahead policy) gets a
 * worker and a gateway of its own, and the cells interleave the variants
 * (A B C, A B C, …) as a framework comparison interleaves frameworks. The
 * caller drives each workflow at the variant's gateway like any function;
 * the records are the usual ones, the label names the variant, and
 * compose-plan.json tells the report which path is which size.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runCaller, type CallerResult } from '../caller/index.js';
import { parseDuration } from '../flags.js';
import type { ComposeConfig, ExperimentConfig } from './config.js';
import { DEFAULT_COLD_GAP, DEFAULT_WORKER_FLAGS, parseFront } from './config.js';
import { connectedToWorker, startRole, type RoleProcess } from './role-process.js';
import { pinPrefix, type PinningPlan } from './pinning.js';
import { freePort } from '../contract/addresses.js';
import { COMPOSE_PLAN } from '../analysis/compute/composition-cells.js';

export interface Variant {
  label: string;
  /** File-name form of the label: worker-<slug>.ndjson, gateway-<slug>.ndjson. */
  slug: string;
  mode: 'local' | 'rpc' | 'http';
  coordinator: 'worker' | 'function';
  boot: 'none' | 'next' | 'all';
  /** Cold shape only: the chains run back to back, so their functions stay warm (the baseline). */
  warm: boolean;
}

export interface ComposeCell {
  round: number;
  size: number;
  connections: number;
  variant: Variant;
  path: string;
  /** Measured requests (chains, for the cold shape), or null with a duration. */
  requests: number | null;
  durationMs: number | null;
}

/** What the report needs to read the records: written as compose-plan.json beside them. */
export interface ComposePlan {
  shape: ComposeConfig['shape'];
  sizes: number[];
  fn: string;
  length: number | null;
  variants: Variant[];
  /** The cell path of each size. */
  paths: Record<string, number>;
}

const DEFAULT_COLD_CHAINS = 10;
const DEFAULT_PAYLOAD_LENGTH = 4;

export function planVariants(c: ComposeConfig): Variant[] {
  const modes = c.modes ?? ['local', 'rpc', 'http'];
  const coordinators = c.coordinators ?? ['worker'];
  const boots = c.shape === 'cold' ? (c.boot_ahead ?? ['none', 'next']) : ['none' as const];
  const out: Variant[] = [];
  for (const mode of modes) {
    for (const coordinator of coordinators) {
      const base = coordinator === 'worker' ? mode : `${mode} coordinator-function`;
      if (c.shape === 'cold') out.push(variant(`${base} warm`, mode, coordinator, 'none', true));
      for (const boot of boots) out.push(variant(c.shape === 'cold' ? `${base} boot-${boot}` : base, mode, coordinator, boot, false));
    }
  }
  return out;
}

function variant(label: string, mode: Variant['mode'], coordinator: Variant['coordinator'], boot: Variant['boot'], warm: boolean): Variant {
  return { label, slug: label.replace(/[^a-z0-9]+/g, '-'), mode, coordinator, boot, warm };
}

/** The workflow a size runs, and the path the caller asks for. */
export function workflowOf(c: ComposeConfig, size: number): { name: string; path: string; definition: unknown } {
  const fn = c.fn ?? 'empty';
  const call = c.args === undefined ? { fn } : { fn, args: c.args };
  switch (c.shape) {
    case 'chain':
      return { name: `chain-${size}`, path: `/chain-${size}`, definition: { description: `${size} calls of ${fn} one after the other`, steps: [{ ...call, times: size }] } };
    case 'fanout':
      return {
        name: `fan-${size}`,
        path: `/fan-${size}`,
        definition: { description: `${size} calls of ${fn} at once, then empty given their results`, steps: [{ parallel: [{ ...call, times: size }] }, 'empty'] },
      };
    case 'payload': {
      const length = c.length ?? DEFAULT_PAYLOAD_LENGTH;
      const steps = ['source', ...(length > 2 ? [{ fn: 'echo', times: length - 2 }] : []), 'sink'];
      return { name: `carry-${length}`, path: `/carry-${length}?bytes=${size}`, definition: { description: `a payload made, carried along ${length} calls, and measured`, steps } };
    }
    case 'cold':
      return {
        name: `cold-${size}`,
        path: `/cold-${size}`,
        definition: { description: `${size} different functions one after the other`, steps: Array.from({ length: size }, (_, k) => `step-${k + 1}`) },
      };
  }
}

/** Rounds outermost, then sizes and connection counts, the variants innermost (interleaved). */
export function planComposeCells(config: ExperimentConfig): ComposeCell[] {
  const c = config.compose!;
  const cold = c.shape === 'cold';
  const variants = planVariants(c);
  const counts = cold ? [1] : [config.connections].flat();
  const requests = config.requests ?? (cold ? DEFAULT_COLD_CHAINS : null);
  const durationMs = requests === null ? parseDuration(config.duration, 'duration') : null;
  const cells: ComposeCell[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    for (const size of c.sizes) {
      for (const connections of counts) {
        for (const v of variants) cells.push({ round, size, connections, variant: v, path: workflowOf(c, size).path, requests, durationMs });
      }
    }
  }
  return cells;
}

/** The functions a payload or cold run needs, written beside its records (their --functions directory). */
const GENERATED: Record<string, string> = {
  'source.mjs': `class InputError extends Error { name = 'InputError'; }
// Makes the payload a chain carries: about \`bytes\` bytes of string.
export default { run(args) {
  const n = Number(args.bytes);
  if (!Number.isInteger(n) || n < 1 || n > 8388608) throw new InputError('bytes must be an integer from 1 to 8388608');
  return { data: 'x'.repeat(n) };
} };
`,
  'echo.mjs': `// Passes on what it was given.
export default { run: (args) => args };
`,
  'sink.mjs': `// Ends a chain with a small answer: how many bytes of payload reached it.
export default { run: (args) => ({ bytes: typeof args.data === 'string' ? args.data.length : 0 }) };
`,
};
const stepFunction = (k: number) => `// Step ${k} of a cold chain: a function of its own, so that each step starts an instance.
export default { run: (args) => args };
`;

async function writeInputs(c: ComposeConfig, dir: string): Promise<{ workflows: string; functions: string | null }> {
  const workflows = join(dir, 'workflows');
  await mkdir(workflows, { recursive: true });
  for (const size of c.sizes) {
    const wf = workflowOf(c, size);
    await writeFile(join(workflows, `${wf.name}.json`), `${JSON.stringify(wf.definition, null, 2)}\n`);
  }
  if (c.shape !== 'payload' && c.shape !== 'cold') return { workflows, functions: null };
  const functions = join(dir, 'functions');
  await mkdir(functions, { recursive: true });
  if (c.shape === 'payload') for (const [file, text] of Object.entries(GENERATED)) await writeFile(join(functions, file), text);
  else for (let k = 1; k <= Math.max(...c.sizes); k++) await writeFile(join(functions, `step-${k}.mjs`), stepFunction(k));
  return { workflows, functions };
}

export interface ComposeRun {
  config: ExperimentConfig;
  out: string;
  records: (role: string) => string;
  pinning: PinningPlan;
  started: RoleProcess[];
  timeoutMs: number;
  signal?: AbortSignal;
  say: (line: string) => void;
  /** Called after each cell with its caller results (one per chain in a cold cell). */
  onCell: (cell: ComposeCell, results: CallerResult[]) => void;
}

/** Starts each variant's worker and gateway, runs the cells, and returns the gateway URL of each variant. */
export async function runCompose(r: ComposeRun): Promise<Record<string, string>> {
  const c = r.config.compose!;
  const { workflows, functions } = await writeInputs(c, join(r.out, 'compose'));
  const variants = planVariants(c);
  const plan: ComposePlan = {
    shape: c.shape,
    sizes: c.sizes,
    fn: c.fn ?? 'empty',
    length: c.shape === 'payload' ? (c.length ?? DEFAULT_PAYLOAD_LENGTH) : null,
    variants,
    paths: Object.fromEntries(c.sizes.map((n) => [workflowOf(c, n).path, n])),
  };
  await writeFile(join(r.out, COMPOSE_PLAN), `${JSON.stringify(plan, null, 2)}\n`);
  const framework = parseFront(r.config.frameworks[0]!)!.framework;
  const urls: Record<string, string> = {};
  for (const v of variants) {
    if (r.signal?.aborted) break;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const worker = await startRole(
      [
        'worker', '--port', '0', '--log', r.records(`worker-${v.slug}`),
        ...(r.config.worker ?? DEFAULT_WORKER_FLAGS),
        ...(functions ? ['--functions', functions] : []),
        '--workflows', workflows, '--call-mode', v.mode, '--coordinator', v.coordinator, '--boot-ahead', v.boot,
        ...(v.mode === 'http' ? ['--call-gateway', url] : []),
      ],
      'worker listening',
      { prefix: pinPrefix(r.pinning.worker) },
    );
    r.started.push(worker);
    const address = worker.ready.address as string;
    const gateway = await startRole(
      ['gateway', '--framework', framework, '--port', String(port), '--worker', address, '--log', r.records(`gateway-${v.slug}`)],
      'gateway listening',
      { prefix: pinPrefix(r.pinning.gateway) },
    );
    r.started.push(gateway);
    await connectedToWorker(gateway, 1);
    urls[v.label] = url;
    r.say(`${v.label}: worker ${address}, gateway ${url}`);
  }
  const gapMs = parseDuration(c.gap ?? DEFAULT_COLD_GAP, 'compose.gap');
  const warmupMs = parseDuration(r.config.warmup, 'warmup');
  for (const cell of planComposeCells(r.config)) {
    if (r.signal?.aborted) break;
    const url = urls[cell.variant.label]! + cell.path;
    const common = { url, timeoutMs: r.timeoutMs, label: cell.variant.label, out: r.records('caller'), signal: r.signal };
    const results: CallerResult[] = [];
    if (c.shape === 'cold' && !cell.variant.warm) {
      // One chain at a time, each after the instances of the one before expired.
      for (let k = 0; k < cell.requests! && !r.signal?.aborted; k++) {
        await delay(gapMs, undefined, { signal: r.signal }).catch(() => {});
        if (r.signal?.aborted) break;
        results.push(await runCaller({ ...common, connections: 1, requests: 1, warmupMs: 0, sampleIntervalMs: 0 }));
      }
    } else {
      // The warm baseline's first chains start its instances: the warm-up leaves them out.
      results.push(await runCaller({ ...common, connections: cell.connections, requests: cell.requests ?? undefined, durationMs: cell.durationMs ?? undefined, warmupMs }));
    }
    r.onCell(cell, results);
    if (results.some((x) => x.aborted)) break;
  }
  return urls;
}
