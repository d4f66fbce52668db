/**
 * The experiment description: what `faasbench run` runs, locally or against
 * remote gateways, and what the ansible playbooks deploy. JSON or YAML.
 * Every field is documented in README.md ("The experiment config");
 * examples/experiment.json is the embedded default, written out.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../flags.js';
import { GATEWAY_PORT, WORKER_PORT } from '../commands.js';
import { FRAMEWORKS, type Framework } from '../gateway/adapters/adapter.js';
import { ENDPOINT_LIST } from '../gateway/endpoints.js';

export interface EndpointConfig {
  /** Path and query, e.g. "/sleep?ms=1000". */
  path: string;
  /** Overrides of the experiment-wide values for this endpoint. */
  connections?: number | number[];
  duration?: string;
  requests?: number;
  rate?: number | null;
}

export interface ExperimentConfig {
  frameworks: Framework[];
  endpoints: EndpointConfig[];
  /** Closed-loop connections; a list runs a sweep. */
  connections: number | number[];
  /** Measured window of each cell ("10s"), unless `requests` is set. */
  duration: string;
  /** Measured requests per cell instead of a duration. */
  requests?: number | null;
  /** Unmeasured requests before each cell's window. */
  warmup: string;
  /** Open loop at this many requests per second; null: closed loop. */
  rate: number | null;
  /** Each cell runs once per round; frameworks interleave within a round. */
  rounds: number;
  /** Per-request time limit of the caller. */
  timeout: string;
  /** Ports of a deployment: framework i listens on gateway + i. Local runs use free ports. */
  ports: { worker: number; gateway: number };
  /** "auto": pin roles to separate cores where the machine has them; "none". */
  pinning: 'auto' | 'none';
  /** What the run measures (default "frameworks"); the instance experiments are in lifecycle.ts. */
  experiment?: ExperimentType;
  /** Extra flags of the local worker (default: --isolation inline, the framework comparison's floor). */
  worker?: string[];
  /** experiment "backoff": one call after each idle gap, `calls` times per gap, gaps in the order given. */
  backoff?: { gaps: string[]; calls: number };
  /** experiment "interference": these faults called one after another beside a steady load; `phase` of quiet load before and after. */
  interference?: { faults: string[]; phase: string };
}

export const EXPERIMENT_TYPES = ['frameworks', 'concurrency', 'backoff', 'interference'] as const;
export type ExperimentType = (typeof EXPERIMENT_TYPES)[number];
/** The worker of a framework comparison runs functions inline, as before instances existed: the floor. */
export const DEFAULT_WORKER_FLAGS = ['--isolation', 'inline'];

export const DEFAULT_CONFIG: ExperimentConfig = {
  frameworks: [...FRAMEWORKS],
  endpoints: [
    // A short sweep, so that every default report shows how the stages move with load (Figures 3 and 3b).
    { path: '/empty', connections: [1, 10, 50, 150], duration: '2s' },
    { path: '/sleep?ms=1000' },
    { path: '/math?n=100000' },
    { path: '/image?width=320', connections: 20 },
  ],
  connections: 150,
  duration: '3s',
  requests: null,
  warmup: '1s',
  rate: null,
  rounds: 2,
  timeout: '10s',
  ports: { worker: WORKER_PORT, gateway: GATEWAY_PORT },
  pinning: 'auto',
};

/** `--quick`: the same shape in well under a minute (what the tests run). */
/** Counts rather than durations: a stall on a busy machine makes a cell slower, never empty. */
export const QUICK_CONFIG: ExperimentConfig = {
  ...DEFAULT_CONFIG,
  endpoints: [
    { path: '/empty', connections: [1, 8], requests: 400 },
    { path: '/sleep?ms=20', requests: 100 },
    { path: '/math?n=20000', requests: 200 },
    { path: '/image?width=64', requests: 60 },
  ],
  connections: 8,
  duration: '400ms',
  warmup: '150ms',
  rounds: 1,
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function loadConfig(file: string): Promise<ExperimentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  return validateConfig(raw, file);
}

const KNOWN = new Set([...Object.keys(DEFAULT_CONFIG), 'experiment', 'worker', 'backoff', 'interference']);
const ENDPOINT_KEYS = new Set(['path', 'connections', 'duration', 'requests', 'rate']);

/** Fills defaults and checks every field; errors name the field. */
export function validateConfig(raw: unknown, where = 'config'): ExperimentConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${where}: must be an object`);
  const input = raw as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key)) throw new ConfigError(`${where}: unknown field "${key}" (known: ${[...KNOWN].join(', ')})`);
  }
  const c = { ...DEFAULT_CONFIG, ...input } as ExperimentConfig;
  const fail = (field: string, why: string) => new ConfigError(`${where}: ${field} ${why}`);

  if (!Array.isArray(c.frameworks) || c.frameworks.length === 0) throw fail('frameworks', 'must be a non-empty list');
  for (const f of c.frameworks) if (!FRAMEWORKS.includes(f)) throw fail('frameworks', `has unknown "${f}" (known: ${FRAMEWORKS.join(', ')})`);
  if (!Array.isArray(c.endpoints) || c.endpoints.length === 0) throw fail('endpoints', 'must be a non-empty list');
  c.endpoints.forEach((e, i) => checkEndpoint(e, `endpoints[${i}]`, fail));
  checkConnections(c.connections, 'connections', fail);
  checkDuration(c.duration, 'duration', fail);
  checkDuration(c.warmup, 'warmup', fail);
  checkDuration(c.timeout, 'timeout', fail);
  if (c.requests != null && !(Number.isInteger(c.requests) && c.requests > 0)) throw fail('requests', 'must be a positive integer or null');
  if (c.rate != null && !(typeof c.rate === 'number' && c.rate > 0)) throw fail('rate', 'must be a positive number or null');
  if (!(Number.isInteger(c.rounds) && c.rounds >= 1 && c.rounds <= 1000)) throw fail('rounds', 'must be an integer from 1 to 1000');
  const ports = c.ports as unknown as Record<string, unknown>;
  if (typeof ports !== 'object' || ports === null) throw fail('ports', 'must be {"worker": N, "gateway": N}');
  c.ports = { ...DEFAULT_CONFIG.ports, ...ports } as ExperimentConfig['ports'];
  for (const k of ['worker', 'gateway'] as const) {
    const p = c.ports[k];
    if (!(Number.isInteger(p) && p >= 1 && p + (k === 'gateway' ? c.frameworks.length - 1 : 0) <= 65535)) throw fail(`ports.${k}`, 'must be a port number');
  }
  if (c.pinning !== 'auto' && c.pinning !== 'none') throw fail('pinning', 'must be "auto" or "none"');
  checkLifecycle(c, fail);
  return c;
}

type Fail = (field: string, why: string) => ConfigError;

function checkLifecycle(c: ExperimentConfig, fail: Fail): void {
  if (c.experiment !== undefined && !EXPERIMENT_TYPES.includes(c.experiment)) throw fail('experiment', `must be one of ${EXPERIMENT_TYPES.join(', ')}`);
  if (c.worker !== undefined && !(Array.isArray(c.worker) && c.worker.every((f) => typeof f === 'string'))) throw fail('worker', 'must be a list of worker flags');
  if (c.experiment === 'backoff') {
    const b = c.backoff;
    if (!b || !Array.isArray(b.gaps) || b.gaps.length === 0) throw fail('backoff.gaps', 'must be a non-empty list of durations');
    b.gaps.forEach((g, i) => checkDuration(g, `backoff.gaps[${i}]`, fail));
    if (!(Number.isInteger(b.calls) && b.calls >= 1 && b.calls <= 1000)) throw fail('backoff.calls', 'must be an integer from 1 to 1000');
  }
  if (c.experiment === 'interference') {
    const f = c.interference;
    const kinds = ['loop', 'alloc', 'throw', 'exit'];
    if (!f || !Array.isArray(f.faults) || f.faults.length === 0 || f.faults.some((k) => !kinds.includes(k))) {
      throw fail('interference.faults', `must be a non-empty list of ${kinds.join(', ')}`);
    }
    checkDuration(f.phase, 'interference.phase', fail);
  }
}

function checkEndpoint(e: EndpointConfig, field: string, fail: Fail): void {
  if (typeof e !== 'object' || e === null) throw fail(field, 'must be an object with a path');
  for (const key of Object.keys(e)) if (!ENDPOINT_KEYS.has(key)) throw fail(field, `has unknown field "${key}"`);
  if (typeof e.path !== 'string' || !ENDPOINT_LIST.some((x) => e.path === x.path || e.path.startsWith(`${x.path}?`))) {
    throw fail(`${field}.path`, `must start with one of ${ENDPOINT_LIST.map((x) => x.path).join(', ')}`);
  }
  if (e.connections !== undefined) checkConnections(e.connections, `${field}.connections`, fail);
  if (e.duration !== undefined) checkDuration(e.duration, `${field}.duration`, fail);
  if (e.requests !== undefined && !(Number.isInteger(e.requests) && e.requests > 0)) throw fail(`${field}.requests`, 'must be a positive integer');
  if (e.rate != null && !(typeof e.rate === 'number' && e.rate > 0)) throw fail(`${field}.rate`, 'must be a positive number or null');
}

function checkConnections(value: unknown, field: string, fail: Fail): void {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((n) => !(Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 10_000))) {
    throw fail(field, 'must be a count from 1 to 10000 or a list of them');
  }
}

function checkDuration(value: unknown, field: string, fail: Fail): void {
  try {
    if (typeof value !== 'string') throw new Error('x');
    parseDuration(value, field);
  } catch {
    throw fail(field, `must be a duration such as "10s" or "500ms", got ${JSON.stringify(value)}`);
  }
}

/** One measured cell of the experiment. */
export interface Cell {
  round: number;
  framework: Framework;
  path: string;
  connections: number;
  durationMs: number | null;
  requests: number | null;
  warmupMs: number;
  rate: number | null;
}

/**
 * The run order: rounds outermost, then endpoints, then connection counts,
 * and frameworks innermost, so that each framework's cells of one round sit
 * side by side in time (A B C D E, A B C D E, ...) and drift on a noisy
 * machine spreads over all of them alike.
 */
export function planCells(c: ExperimentConfig): Cell[] {
  const cells: Cell[] = [];
  for (let round = 1; round <= c.rounds; round++) {
    for (const e of c.endpoints) {
      const counts = [e.connections ?? c.connections].flat();
      const requests = e.requests ?? (e.duration ? null : c.requests ?? null);
      for (const connections of counts) {
        for (const framework of c.frameworks) {
          cells.push({
            round,
            framework,
            path: e.path,
            connections,
            requests,
            durationMs: requests === null ? parseDuration(e.duration ?? c.duration, 'duration') : null,
            warmupMs: parseDuration(c.warmup, 'warmup'),
            rate: e.rate === undefined ? c.rate : e.rate,
          });
        }
      }
    }
  }
  return cells;
}
