/**
 * The experiment description: what `faasbench run` runs, locally or against
 * remote gateways, and what the ansible playbooks deploy. JSON or YAML.
 * Every field is documented in docs/commands.md ("The experiment config") and in
 * its published JSON Schema, schemas/config.schema.json, which validates it;
 * examples/experiment.json is the embedded default, written out.
 *
 * A new key: its property in the schema (per endpoint: definitions.endpoint),
 * its field in ExperimentConfig (EndpointConfig) and DEFAULT_CONFIG, and a
 * check below only for what the schema cannot say.
 */
import { parseDuration } from '../flags.js';
import { checkConfigSchema, ConfigError, readConfigFile } from '../config-file.js';
import { GATEWAY_PORT, WORKER_PORT } from '../contract/addresses.js';
import { FRAMEWORKS, type Framework } from '../gateway/adapters/adapter.js';
import type { Coding, Compression } from '../gateway/compression.js';
import { ENDPOINT_LIST } from '../contract/endpoints.js';
import type { BalancePolicy } from '../rpc/balance.js';
import { checkPolicySection, type PolicySection } from '../scale/params.js';
import type { PolicyName } from '../scale/policies.js';

/**
 * A front under test: an HTTP framework; one compressing its answers
 * ("fastify+gzip": the caller then asks for that coding); `tcp`, the TCP
 * front; or `direct`, the caller straight to the worker with no front.
 */
export type Front = Framework | `${Framework}+${Coding}` | 'tcp' | 'direct';

export function parseFront(front: string): { framework: Framework | 'tcp' | 'direct'; compression: Compression } | null {
  if (front === 'tcp' || front === 'direct') return { framework: front, compression: 'none' };
  const [framework, coding, ...rest] = front.split('+');
  if (rest.length > 0 || !FRAMEWORKS.includes(framework as Framework)) return null;
  if (coding === undefined) return { framework: framework as Framework, compression: 'none' };
  return coding === 'gzip' || coding === 'br' ? { framework: framework as Framework, compression: coding } : null;
}

export interface EndpointConfig {
  /** Path and query, e.g. "/sleep?ms=1000". */
  path: string;
  /** /payload only: a size sweep, one cell per size (`&bytes=N` added to the path). */
  bytes?: number[];
  /** Overrides of the experiment-wide values for this endpoint. */
  connections?: number | number[];
  duration?: string;
  requests?: number;
  rate?: number | null;
}

export interface ExperimentConfig {
  frameworks: Front[];
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
  /** The open loop's arrival process (caller --arrival); cells without a rate ignore it. Default uniform. */
  arrival?: 'uniform' | 'poisson';
  /** Poisson arrivals' seed (caller --seed); default a fresh one per cell, reported in run.json. */
  seed?: number;
  /** A probe stream beside every cell's load (caller --probe-rate, --probe-connections). */
  probe?: { rate: number; connections?: number };
  /** Each cell runs once per round; frameworks interleave within a round. */
  rounds: number;
  /** Per-request time limit of the caller. */
  timeout: string;
  /** Ports of a deployment: framework i listens on gateway + i. Local runs use free ports. */
  ports: { worker: number; gateway: number };
  /** "auto": pin roles to separate cores where the machine has them; "none". */
  pinning: 'auto' | 'none';
  /** Local runs: workers behind each gateway; a list steps through the counts (the replica experiment). */
  workers: number | number[];
  /** The gateways' --balance; a list steps through the policies. */
  balance: BalancePolicy | BalancePolicy[];
  /** What the run measures (default "frameworks"); the instance experiments are in lifecycle.ts. */
  experiment?: ExperimentType;
  /** Extra flags of the local worker (default: --isolation inline, the framework comparison's floor). */
  worker?: string[];
  /** experiment "backoff": one call after each idle gap, `calls` times per gap, gaps in the order given. */
  backoff?: { gaps: string[]; calls: number };
  /** experiment "interference": these faults called one after another beside a steady load; `phase` of quiet load before and after. */
  interference?: { faults: string[]; phase: string };
  /** experiment "scaling": a load step under each policy (run/fleet-experiments.ts), and the policies' parameters. */
  scaling?: ScalingSection;
  /** experiment "failover": one of `workers` killed mid-run. */
  failover?: { duration: string; killAfter: string; signal?: 'SIGKILL' | 'SIGSTOP'; retries?: boolean[]; gateway?: string[] };
  /** experiment "grey": one of `workers` made `slowdown` times slower; each `balance` with and without ejection. */
  grey?: { slowdown?: number; duration: string; ejection?: boolean[]; gateway?: string[] };
  /** experiment "compose": functions that call functions (compose-experiments.ts). */
  compose?: ComposeConfig;
}

export interface ComposeConfig {
  shape: 'chain' | 'fanout' | 'payload' | 'cold';
  /** Chain lengths, fan-out widths, or payload bytes. */
  sizes: number[];
  modes?: ('local' | 'rpc' | 'http')[];
  coordinators?: ('worker' | 'function')[];
  boot_ahead?: ('none' | 'next' | 'all')[];
  fn?: string;
  args?: Record<string, unknown>;
  length?: number;
  gap?: string;
}

export interface ScalingSection extends PolicySection {
  policies: PolicyName[];
  phases: Array<{ connections: number; duration: string }>;
  /** Extra gateway flags. */
  gateway?: string[];
}

export const EXPERIMENT_TYPES = ['frameworks', 'concurrency', 'backoff', 'interference', 'compose', 'scaling', 'failover', 'grey'] as const;
/** The experiments that change the fleet while they run (run/fleet-experiments.ts). */
export const FLEET_EXPERIMENTS = ['scaling', 'failover', 'grey'] as const;
export const isFleetExperiment = (e: ExperimentType | undefined): e is (typeof FLEET_EXPERIMENTS)[number] => (FLEET_EXPERIMENTS as readonly string[]).includes(e ?? '');
export type ExperimentType = (typeof EXPERIMENT_TYPES)[number];
/** The worker of a framework comparison runs functions inline, as before instances existed: the floor. */
export const DEFAULT_WORKER_FLAGS = ['--isolation', 'inline'];

export const DEFAULT_CONFIG: ExperimentConfig = {
  frameworks: [...FRAMEWORKS],
  endpoints: [
    // A short sweep, so that every default report shows how the stages move with load (Figures 3 and 3b).
    { path: '/empty', connections: [1, 10, 50, 150], duration: '1s' },
    { path: '/sleep?ms=1000' },
    { path: '/math?n=100000' },
    { path: '/image?width=320', connections: 20 },
  ],
  connections: 150,
  // Three rounds of short cells rather than two of long ones: a framework difference is judged over rounds (MIN_ROUNDS), still about 5 minutes.
  duration: '2s',
  requests: null,
  warmup: '500ms',
  rate: null,
  rounds: 3,
  timeout: '10s',
  ports: { worker: WORKER_PORT, gateway: GATEWAY_PORT },
  pinning: 'auto',
  workers: 1,
  balance: 'round-robin',
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

export async function loadConfig(file: string): Promise<ExperimentConfig> {
  return validateConfig(await readConfigFile(file), file);
}

/** Checks every field against the schema, then what it cannot say, and fills the defaults; errors name the field. */
export function validateConfig(raw: unknown, where = 'config'): ExperimentConfig {
  checkConfigSchema(raw, where);
  const input = raw as Partial<ExperimentConfig>;
  const c: ExperimentConfig = { ...DEFAULT_CONFIG, ...input, ports: { ...DEFAULT_CONFIG.ports, ...input.ports } };
  const fail = (field: string, why: string) => new ConfigError(`${where}: ${field} ${why}`);
  c.endpoints.forEach((e, i) => {
    if (!ENDPOINT_LIST.some((x) => e.path === x.path || e.path.startsWith(`${x.path}?`))) {
      throw fail(`endpoints[${i}].path`, `must start with one of ${ENDPOINT_LIST.map((x) => x.path).join(', ')}, got ${JSON.stringify(e.path)}`);
    }
    if (e.bytes !== undefined && (!/^\/payload(\?|$)/.test(e.path) || /[?&]bytes=/.test(e.path))) {
      throw fail(`endpoints[${i}].bytes`, 'sweeps the size of /payload: the path must be /payload without bytes=');
    }
  });
  c.frameworks.forEach((f, i) => {
    const first = c.frameworks.indexOf(f);
    if (first !== i) throw fail(`frameworks[${i}]`, `repeats ${JSON.stringify(f)} (frameworks[${first}]): each front is measured once per round`);
  });
  // The run gives its worker these itself: given twice, the worker would refuse to start.
  (c.worker ?? []).forEach((flag, i) => {
    const name = /^--(port|log)(=|$)/.exec(flag)?.[1];
    if (name) throw fail(`worker[${i}]`, `is --${name}, which the run sets itself (a free port; the records under --out)`);
  });
  if (c.ports.gateway + c.frameworks.length - 1 > 65535) {
    throw fail('ports.gateway', `must leave a port for each of the ${c.frameworks.length} frameworks below 65536, got ${c.ports.gateway}`);
  }
  // What the schema cannot say: an experiment's own section is required with it.
  if (c.experiment === 'backoff' && c.backoff === undefined) throw fail('backoff.gaps', 'must be a non-empty list of durations (required by experiment: backoff)');
  if (c.experiment === 'interference' && c.interference === undefined) {
    throw fail('interference.faults', 'must be a non-empty list of loop, alloc, throw, exit (required by experiment: interference)');
  }
  if (c.experiment === 'compose') {
    if (c.compose === undefined) throw fail('compose.shape', 'must be chain, fanout, payload or cold (required by experiment: compose)');
    if (c.compose.shape !== 'payload' && c.compose.sizes.some((n) => n > 1000)) throw fail('compose.sizes', `must be from 1 to 1000 for shape ${c.compose.shape}, got ${Math.max(...c.compose.sizes)}`);
    const front = parseFront(c.frameworks[0]!)!.framework;
    if (front === 'tcp' || front === 'direct') throw fail('frameworks[0]', `must be an HTTP framework with experiment: compose (its gateways serve the workflows, and the http mode calls back through them), got ${front}`);
    if (c.compose.shape === 'cold') checkColdWorker(c.worker ?? DEFAULT_WORKER_FLAGS, c.compose.gap ?? DEFAULT_COLD_GAP, fail);
  }
  for (const kind of FLEET_EXPERIMENTS) {
    if (c.experiment === kind && c[kind] === undefined) throw fail(kind, `is required by experiment: ${kind}`);
  }
  if (isFleetExperiment(c.experiment)) {
    // The fleet experiments start their own workers: one count; only grey steps through policies.
    if (Array.isArray(c.workers) && c.workers.length > 1) throw fail('workers', `must be one count with experiment: ${c.experiment}`);
    if (c.experiment !== 'grey' && Array.isArray(c.balance) && c.balance.length > 1) throw fail('balance', `must be one policy with experiment: ${c.experiment}`);
    if ((c.experiment === 'failover' || c.experiment === 'grey') && [c.workers].flat()[0]! < 2) throw fail('workers', `must be at least 2 with experiment: ${c.experiment} (one is failed)`);
    if (c.scaling) checkPolicySection(c.scaling, where);
    if (c.failover && parseDuration(c.failover.killAfter, 'failover.killAfter') >= parseDuration(c.failover.duration, 'failover.duration')) {
      throw fail('failover.killAfter', 'must be shorter than failover.duration');
    }
  }
  // Steps run the cells again with each setting; backoff and interference run no cells, compose its own.
  if ((c.experiment === 'backoff' || c.experiment === 'interference' || c.experiment === 'compose') && planSteps(c).length > 1) {
    throw fail(Array.isArray(c.workers) && c.workers.length > 1 ? 'workers' : 'balance', `must be one setting with experiment: ${c.experiment} (lists step the cells of a framework comparison)`);
  }
  return c;
}

/** The cold chains' default idle time before each chain. */
export const DEFAULT_COLD_GAP = '400ms';

/** A cold chain needs instances (not inline) that expire within the gap before each chain. */
function checkColdWorker(flags: string[], gap: string, fail: (field: string, why: string) => ConfigError): void {
  const value = (flag: string) => {
    const i = flags.findIndex((f) => f === flag || f.startsWith(`${flag}=`));
    if (i === -1) return undefined;
    return flags[i]!.includes('=') ? flags[i]!.slice(flag.length + 1) : flags[i + 1];
  };
  if ((value('--isolation') ?? 'thread') === 'inline') throw fail('worker', 'must give instances for compose.shape cold (--isolation thread or process, not inline)');
  const keepWarm = value('--keep-warm');
  let below = false;
  try {
    below = keepWarm !== undefined && parseDuration(keepWarm, '--keep-warm') < parseDuration(gap, 'compose.gap');
  } catch {
    // Named below.
  }
  if (!below) throw fail('worker', `must set --keep-warm below compose.gap (${gap}) for compose.shape cold, so that every chain finds its instances gone`);
}

/** One setting of the fleet: the cells run once per step, with this many workers and this policy. */
export interface FleetStep {
  workers: number;
  balance: BalancePolicy;
}

/** Worker counts outermost, then policies: a count's workers start once for all its policies. */
export function planSteps(c: ExperimentConfig): FleetStep[] {
  return [c.workers].flat().flatMap((workers) => [c.balance].flat().map((balance) => ({ workers, balance })));
}

/** One measured cell of the experiment. */
export interface Cell {
  round: number;
  framework: Front;
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
      const paths = e.bytes === undefined ? [e.path] : e.bytes.map((n) => `${e.path}${e.path.includes('?') ? '&' : '?'}bytes=${n}`);
      for (const [path, connections] of paths.flatMap((p) => counts.map((n) => [p, n] as const))) {
        for (const framework of c.frameworks) {
          cells.push({
            round,
            framework,
            path,
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
