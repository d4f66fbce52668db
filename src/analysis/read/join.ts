/**
 * Decides, per request, whether its records joined and whether it enters the
 * figures, and counts every request that did not — never a silent drop.
 * A request is "joined" when the caller's and the gateway's records are both
 * there: they hold every stamp (the gateway carries a copy of the worker's).
 * It is "measured" (in the figures) when it is joined, not warm-up, answered
 * 2xx without an error, and has all eleven stamps the stages need.
 * Requests of a caller-only run (runs.ts) stand on the caller's record alone:
 * measured when not warm-up, answered 2xx without an error, t0 and t6 there.
 */
import { callerOnlyNames, type CallerRuns } from './runs.js';
import { HAS_CALLER, HAS_GATEWAY, HAS_WORKER, PROBE, RequestTable, WARMUP } from './table.js';

export interface JoinCounts {
  /** Distinct request ids seen in any record. */
  ids: number;
  joined: number;
  joined_warmup: number;
  /** Joined, not warm-up, and in the figures. */
  measured: number;
  /** Joined, not warm-up, left out of the figures, by reason. */
  excluded: Record<string, number>;
  caller_without_gateway: number;
  /** …of which the caller recorded an error (the request may never have reached the gateway). */
  caller_without_gateway_with_error: number;
  gateway_without_caller: number;
  /** The gateway called a worker (t2 taken) but no worker record has this id. */
  gateway_without_worker: number;
  worker_without_gateway: number;
  /** Worker record only: neither caller nor gateway saw it. */
  worker_only: number;
  /** Requests of caller runs without any gateway record (a server that is not faasbench's gateway): roundtrip only. */
  caller_only: number;
  caller_only_warmup: number;
}

export interface Group {
  framework: string;
  endpoint: string;
  /** From caller records alone: no stage but the roundtrip. */
  caller_only: boolean;
  /** Joined, non-warm-up requests of this group (measured or not). */
  total: number;
  /** Error code or "status NNN" or "incomplete stamps" → count, among `total`. */
  excluded: Record<string, number>;
  /** Slots of its measured requests, ascending. */
  slots: Uint32Array;
}

export interface Join {
  counts: JoinCounts;
  groups: Group[];
  /** Per slot: 1 when measured (in the figures). */
  measured: Uint8Array;
}

/** Endpoint name of a request the gateway did not route to a function. */
export const UNROUTED = '(unrouted)';

export function joinRequests(t: RequestTable, runs: CallerRuns): Join {
  const counts: JoinCounts = {
    ids: t.size,
    joined: 0,
    joined_warmup: 0,
    measured: 0,
    excluded: {},
    caller_without_gateway: 0,
    caller_without_gateway_with_error: 0,
    gateway_without_caller: 0,
    gateway_without_worker: 0,
    worker_without_gateway: 0,
    worker_only: 0,
    caller_only: 0,
    caller_only_warmup: 0,
  };
  const measured = new Uint8Array(t.size);
  const groupOf = new Int32Array(t.size).fill(-1);
  const groupIndex = new Map<number | string, number>();
  const groups: Omit<Group, 'slots'>[] = [];
  const sizes: number[] = [];
  const { flags, framework, fn } = t.u8;
  const f = t.f64;

  for (let i = 0; i < t.size; i++) {
    const fl = flags[i]!;
    const c = (fl & HAS_CALLER) !== 0;
    const g = (fl & HAS_GATEWAY) !== 0;
    const w = (fl & HAS_WORKER) !== 0;
    if (g && !w && f.t2[i] === f.t2[i]) counts.gateway_without_worker++;
    if (w && !g) {
      counts.worker_without_gateway++;
      if (!c) counts.worker_only++;
    }
    const alone = c && runs.runs[runs.runOf[i]!]!.callerOnly;
    if (alone) {
      counts.caller_only++;
      if (fl & WARMUP) counts.caller_only_warmup++;
    } else if (c && !g) {
      counts.caller_without_gateway++;
      if (t.u16.callerError[i] !== 0) counts.caller_without_gateway_with_error++;
    }
    if (g && !c) counts.gateway_without_caller++;
    if (!alone) {
      if (!(c && g)) continue;
      counts.joined++;
      if (fl & WARMUP) counts.joined_warmup++;
    }
    // Warm-up and probe requests are in no group's figures (the probe is summarised beside its cell).
    if (fl & (WARMUP | PROBE)) continue;
    const key = alone ? `${t.u32.label[i]} ${t.u32.request[i]}` : framework[i]! * 256 + fn[i]!;
    let gi = groupIndex.get(key);
    if (gi === undefined) {
      gi = groups.length;
      groupIndex.set(key, gi);
      const names = alone ? callerOnlyNames(t, i) : { framework: t.frameworks.value(framework[i]!) ?? '?', endpoint: t.fns.value(fn[i]!) ?? UNROUTED };
      groups.push({ ...names, caller_only: alone, total: 0, excluded: {} });
      sizes.push(0);
    }
    const group = groups[gi]!;
    group.total++;
    const why = alone ? callerExclusion(t, i) : exclusion(t, i);
    if (why !== null) {
      group.excluded[why] = (group.excluded[why] ?? 0) + 1;
      counts.excluded[why] = (counts.excluded[why] ?? 0) + 1;
      continue;
    }
    measured[i] = 1;
    groupOf[i] = gi;
    sizes[gi]!++;
    counts.measured++;
  }

  const slots = sizes.map((n) => new Uint32Array(n));
  const fill = new Array<number>(slots.length).fill(0);
  for (let i = 0; i < t.size; i++) {
    const gi = groupOf[i]!;
    if (gi >= 0) slots[gi]![fill[gi]!++] = i;
  }
  return { counts, groups: groups.map((g, k) => ({ ...g, slots: slots[k]! })), measured };
}

/** Why a caller-only request stays out of the figures, or null when it goes in. */
function callerExclusion(t: RequestTable, i: number): string | null {
  const callerError = t.u16.callerError[i]!;
  if (callerError !== 0) return `caller: ${t.errors.value(callerError)}`;
  const status = t.i16.callerStatus[i]!;
  if (status < 200 || status > 299) return `status ${status < 0 ? '?' : status}`;
  return t.f64.t0[i] === t.f64.t0[i] && t.f64.t6[i] === t.f64.t6[i] ? null : 'incomplete stamps';
}

/** Why a joined request stays out of the figures, or null when it goes in. */
function exclusion(t: RequestTable, i: number): string | null {
  const callerError = t.u16.callerError[i]!;
  if (callerError !== 0) return `caller: ${t.errors.value(callerError)}`;
  const gatewayError = t.u16.gatewayError[i]!;
  if (gatewayError !== 0) return `gateway: ${t.errors.value(gatewayError)}`;
  const status = t.i16.gatewayStatus[i]!;
  if (status < 200 || status > 299) return `status ${status < 0 ? '?' : status}`;
  const f = t.f64;
  // NaN fails x === x: any missing stamp keeps the request out.
  const complete =
    f.t0[i] === f.t0[i] && f.t6[i] === f.t6[i] && f.t1[i] === f.t1[i] && f.t2[i] === f.t2[i] &&
    f.t4[i] === f.t4[i] && f.t5[i] === f.t5[i] && f.t3_recv[i] === f.t3_recv[i] &&
    f.t3_start[i] === f.t3_start[i] && f.t3_end[i] === f.t3_end[i] && f.t3_send[i] === f.t3_send[i];
  return complete ? null : 'incomplete stamps';
}

/** Every record that found no partner, one sentence, or null when all joined. Shared by the warnings and the digest. */
export function describeUnjoined(c: JoinCounts): string | null {
  const total = c.caller_without_gateway + c.gateway_without_caller + c.gateway_without_worker + c.worker_without_gateway;
  if (total === 0) return null;
  const of = (n: number, what: string) => (n > 0 ? ` (${n} ${what})` : '');
  const parts = [
    c.caller_without_gateway && `${c.caller_without_gateway} caller without gateway${of(c.caller_without_gateway_with_error, 'with a caller error')}`,
    c.gateway_without_caller && `${c.gateway_without_caller} gateway without caller`,
    c.gateway_without_worker && `${c.gateway_without_worker} gateway without worker`,
    c.worker_without_gateway && `${c.worker_without_gateway} worker without gateway${of(c.worker_only, 'seen by no one else')}`,
  ].filter(Boolean);
  return `${total} record(s) did not join: ${parts.join(', ')}`;
}
