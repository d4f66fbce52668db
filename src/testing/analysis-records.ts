/**
 * Test fixture: the three records of a request whose every stage duration is
 * chosen, on hosts whose monotonic clocks read whatever we like. Stamps are
 * BigInts, written as decimal strings as the roles write them.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** ns of each stage, and the one-way network legs the stages do not see separately. */
export interface Durations {
  /** caller: t0 → gateway t1 (network in) */
  net_in: bigint;
  gateway_in: bigint;
  /** t2 → t3_recv, and t3_send → t4: the RPC link is their sum */
  rpc_out: bigint;
  rpc_back: bigint;
  worker_queue: bigint;
  function: bigint;
  worker_out: bigint;
  respond: bigint;
  /** t5 → t6 (network out) */
  net_out: bigint;
}

export const DEFAULT_DURATIONS: Durations = {
  net_in: 70_001n,
  gateway_in: 31_003n,
  rpc_out: 20_007n,
  rpc_back: 24_011n,
  worker_queue: 5_013n,
  function: 1_000_017n,
  worker_out: 9_019n,
  respond: 43_023n,
  net_out: 61_029n,
};

export interface Hosts {
  caller: string;
  gateway: string;
  worker: string;
  /** Each host's clock reading at true time 0. */
  callerBase: bigint;
  gatewayBase: bigint;
  workerBase: bigint;
}

export const HOURS = 3_600_000_000_000n;

export const DEFAULT_HOSTS: Hosts = {
  caller: 'caller-host',
  gateway: 'gateway-host',
  worker: 'worker-host',
  callerBase: 2n ** 60n, // far beyond 2^53: only exact decimal handling survives
  gatewayBase: 5n * 86_400_000_000_000n,
  workerBase: 5n * 86_400_000_000_000n + 3n * HOURS + 123_456_789n,
};

export interface RequestSpec {
  id: string;
  /** True time (ns) the caller sends. */
  at: bigint;
  /** Open loop: the true time the request was due (the caller's t0_intended). */
  dueAt?: bigint;
  d?: Partial<Durations>;
  framework?: string;
  fn?: string;
  path?: string;
  warmup?: boolean;
  status?: number;
  connections?: number;
}

export interface Stamps {
  t0: bigint;
  t1: bigint;
  t2: bigint;
  t3_recv: bigint;
  t3_start: bigint;
  t3_end: bigint;
  t3_send: bigint;
  t4: bigint;
  t5: bigint;
  t6: bigint;
}

/** The true-time stamps (before any host's clock base is added). */
export function trueStamps(at: bigint, partial: Partial<Durations> = {}): Stamps {
  const d = { ...DEFAULT_DURATIONS, ...partial };
  const t0 = at;
  const t1 = t0 + d.net_in;
  const t2 = t1 + d.gateway_in;
  const t3_recv = t2 + d.rpc_out;
  const t3_start = t3_recv + d.worker_queue;
  const t3_end = t3_start + d.function;
  const t3_send = t3_end + d.worker_out;
  const t4 = t3_send + d.rpc_back;
  const t5 = t4 + d.respond;
  const t6 = t5 + d.net_out;
  return { t0, t1, t2, t3_recv, t3_start, t3_end, t3_send, t4, t5, t6 };
}

export interface RecordLines {
  caller: string;
  gateway: string;
  worker: string;
}

/** The caller's, gateway's and worker's NDJSON lines (without newline) of one request. */
export function requestLines(spec: RequestSpec, hosts: Hosts = DEFAULT_HOSTS): RecordLines {
  const s = trueStamps(spec.at, spec.d);
  const c = (v: bigint) => String(v + hosts.callerBase);
  const g = (v: bigint) => String(v + hosts.gatewayBase);
  const w = (v: bigint) => String(v + hosts.workerBase);
  const fn = spec.fn ?? 'empty';
  const status = spec.status ?? 200;
  const worker = { t3_recv: w(s.t3_recv), t3_start: w(s.t3_start), t3_end: w(s.t3_end), t3_send: w(s.t3_send) };
  return {
    caller: JSON.stringify({
      role: 'caller', host: hosts.caller, id: spec.id, method: 'GET', path: spec.path ?? `/${fn}`,
      connections: spec.connections ?? 8, warmup: spec.warmup ?? false, status, bytes: 200, error: null,
      t0: c(s.t0), ...(spec.dueAt === undefined ? {} : { t0_intended: c(spec.dueAt) }), t6: c(s.t6),
    }),
    gateway: JSON.stringify({
      role: 'gateway', host: hosts.gateway, id: spec.id, framework: spec.framework ?? 'node', fn, status, error: null,
      t1: g(s.t1), t2: g(s.t2), ...worker, t4: g(s.t4), t5: g(s.t5), worker: `${hosts.worker}:7070`,
    }),
    worker: JSON.stringify({ role: 'worker', host: hosts.worker, id: spec.id, fn, error: null, ...worker }),
  };
}

/** Writes caller.ndjson, gateway.ndjson and worker.ndjson into a new temp dir; returns it. */
export async function writeRecordDir(lines: { caller: string[]; gateway: string[]; worker: string[] }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-analysis-test-'));
  for (const role of ['caller', 'gateway', 'worker'] as const) {
    await writeFile(join(dir, `${role}.ndjson`), lines[role].map((l) => `${l}\n`).join(''));
  }
  return dir;
}
