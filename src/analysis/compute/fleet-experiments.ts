/**
 * The fleet experiments' figures (scaling, failover, grey, and seed 003's
 * replicas), from the records of one run directory: caller records (their
 * label names the run), the gateways' request and fleet records, the
 * workers' records and samples, and fleet.ndjson (what the run did). Every
 * file belongs to the run whose caller records share its request ids, so no
 * file naming is assumed. All stamps are one host's monotonic clock (a
 * local run); times are seconds from each run's origin. Pure over parsed
 * records, so it is tested without a run.
 */
import { percentileOfSorted } from '../../stats/percentiles.js';

export type Rec = Record<string, unknown>;

export interface RunRecords {
  label: string;
  caller: Rec[];
  gateway: Rec[];
  /** The gateway's fleet records (type fleet). */
  gatewayFleet: Rec[];
  worker: Rec[];
  workerSamples: Rec[];
  /** fleet.ndjson's records of this run (part = label). */
  events: Rec[];
}

const big = (v: unknown): bigint | null => (typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : null);
const ms = (ns: bigint) => Number(ns) / 1e6;
const failed = (c: Rec) => c.status !== 200 || (c.error !== null && c.error !== undefined);
const latencyMs = (c: Rec) => ms(big(c.t6)! - big(c.t0)!);
const pct = (xs: number[], p: number) => (xs.length === 0 ? NaN : percentileOfSorted([...xs].sort((a, b) => a - b), p));

/** Each file's records assigned to the run (caller label) whose requests they share. */
export function groupRuns(files: Array<{ name: string; records: Rec[] }>): Map<string, RunRecords> {
  const labelOf = new Map<string, string>();
  const runs = new Map<string, RunRecords>();
  const run = (label: string) => {
    let r = runs.get(label);
    if (!r) runs.set(label, (r = { label, caller: [], gateway: [], gatewayFleet: [], worker: [], workerSamples: [], events: [] }));
    return r;
  };
  for (const f of files) {
    for (const r of f.records) {
      if (r.role === 'caller' && r.type === undefined && typeof r.label === 'string') {
        labelOf.set(r.id as string, r.label);
        run(r.label).caller.push(r);
      }
    }
  }
  for (const f of files) {
    const requests = f.records.filter((r) => r.type === undefined && (r.role === 'gateway' || r.role === 'worker'));
    const votes = new Map<string, number>();
    for (const r of requests) {
      const l = labelOf.get(r.id as string);
      if (l !== undefined) votes.set(l, (votes.get(l) ?? 0) + 1);
    }
    const label = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
    for (const r of f.records) {
      if (r.type === 'fleet' && r.role !== 'gateway') {
        if (typeof r.part === 'string') run(r.part).events.push(r);
        continue;
      }
      if (label === undefined) continue;
      const target = run(label);
      if (r.role === 'gateway') (r.type === 'fleet' ? target.gatewayFleet : r.type === undefined ? target.gateway : null)?.push(r);
      else if (r.role === 'worker') (r.type === 'sample' ? target.workerSamples : r.type === undefined ? target.worker : null)?.push(r);
    }
  }
  return runs;
}

export interface Latency {
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
}

function latencyOf(calls: Rec[]): Latency {
  const ok = calls.filter((c) => !failed(c)).map(latencyMs);
  return { requests: calls.length, errors: calls.filter(failed).length, p50_ms: pct(ok, 50), p99_ms: pct(ok, 99) };
}

export interface Bin {
  t_s: number;
  responses: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** Caller records by the second (or `binS`) they finished in, from `origin`. */
function bins(calls: Rec[], origin: bigint, binS: number, untilS: number): Bin[] {
  const n = Math.max(1, Math.ceil(untilS / binS));
  const out: Array<{ lat: number[]; errors: number; responses: number }> = Array.from({ length: n }, () => ({ lat: [], errors: 0, responses: 0 }));
  for (const c of calls) {
    const t = ms(big(c.t6)! - origin) / 1000;
    const i = Math.floor(t / binS);
    if (i < 0 || i >= n) continue;
    out[i]!.responses++;
    if (failed(c)) out[i]!.errors++;
    else out[i]!.lat.push(latencyMs(c));
  }
  return out.map((b, i) => ({
    t_s: i * binS,
    responses: b.responses,
    errors: b.errors,
    p50_ms: b.lat.length ? pct(b.lat, 50) : null,
    p99_ms: b.lat.length ? pct(b.lat, 99) : null,
  }));
}

// --- scaling -------------------------------------------------------------------

export interface ScalingRun {
  label: string;
  policy: string;
  phases: Array<{ connections: number; from_s: number; to_s: number }>;
  /** The phase with the most connections: the step up. */
  step: { connections: number; from_s: number; to_s: number } | null;
  bins: Array<Bin & { active: number; instances: number | null; cold: number; desired: number | null }>;
  /** The workers taking calls, at each change. */
  active: Array<{ t_s: number; active: number }>;
  /** From the step's start: the first decision to add, the added worker connected, its first call; from the step's end, the first drain. */
  reaction: { decided_s: number | null; connected_s: number | null; serving_s: number | null; drain_s: number | null };
  during_step: Latency & { cold: number };
  total: Latency & { cold: number; max_active: number };
}

export function scalingRun(r: RunRecords, binS = 1): ScalingRun | null {
  const phaseEvents = r.events.filter((e) => e.event === 'phase').sort((a, b) => (big(a.t)! < big(b.t)! ? -1 : 1));
  if (phaseEvents.length === 0) return null;
  const origin = big(phaseEvents[0]!.t)!;
  const at = (e: Rec) => ms(big(e.t)! - origin) / 1000;
  const endEvent = r.events.find((e) => e.event === 'end');
  const lastT6 = r.caller.reduce((m, c) => Math.max(m, ms(big(c.t6)! - origin) / 1000), 0);
  const end = endEvent ? at(endEvent) : lastT6;
  const phases = phaseEvents.map((e, i) => ({ connections: e.connections as number, from_s: at(e), to_s: i + 1 < phaseEvents.length ? at(phaseEvents[i + 1]!) : end }));
  const step = phases.reduce<ScalingRun['step']>((best, p, i) => (i > 0 && (best === null || p.connections > best.connections) ? p : best), null);
  const fleet = [...r.gatewayFleet].sort((a, b) => (big(a.t)! < big(b.t)! ? -1 : 1));
  const active = fleet.map((f) => ({ t_s: at(f), active: (f.active as string[]).length, list: f.active as string[] }));
  const activeAt = (t: number) => active.filter((a) => a.t_s <= t).at(-1)?.active ?? 0;
  const decisions = r.events.filter((e) => e.event === 'decision').map((e) => ({ t_s: at(e), current: e.current as number, desired: e.desired as number }));
  const desiredAt = (t: number) => decisions.filter((d) => d.t_s <= t).at(-1)?.desired ?? null;
  const cold = r.worker.filter((w) => w.cold === true).map((w) => ms(big(w.t3_recv)! - origin) / 1000);
  // Instances alive: each worker's latest sample in the bin, summed.
  const samplesBy = new Map<string, Array<{ t_s: number; n: number }>>();
  for (const s of r.workerSamples) {
    if (typeof s.instances !== 'number') continue;
    const key = `${s.host as string} ${s.pid as number}`;
    const list = samplesBy.get(key) ?? [];
    list.push({ t_s: ms(big(s.t)! - origin) / 1000, n: s.instances });
    samplesBy.set(key, list);
  }
  const instancesAt = (from: number, to: number): number | null => {
    let sum = 0;
    let any = false;
    for (const list of samplesBy.values()) {
      const last = list.filter((x) => x.t_s >= from && x.t_s < to).at(-1);
      if (last) (sum += last.n), (any = true);
    }
    return any ? sum : null;
  };
  const b = bins(r.caller, origin, binS, end).map((x) => ({
    ...x,
    active: activeAt(x.t_s + binS),
    instances: instancesAt(x.t_s, x.t_s + binS),
    cold: cold.filter((t) => t >= x.t_s && t < x.t_s + binS).length,
    desired: desiredAt(x.t_s + binS),
  }));
  let reaction: ScalingRun['reaction'] = { decided_s: null, connected_s: null, serving_s: null, drain_s: null };
  if (step) {
    const before = new Set(active.filter((a) => a.t_s <= step.from_s).at(-1)?.list ?? []);
    const decided = decisions.find((d) => d.t_s >= step.from_s && d.desired > d.current);
    const connected = fleet.find((f) => at(f) >= step.from_s && f.event === 'connected' && !before.has(f.worker as string));
    const serving = r.gateway
      .filter((g) => g.t2 !== null && !before.has(g.worker as string) && g.worker !== null && ms(big(g.t2)! - origin) / 1000 >= step.from_s)
      .map((g) => ms(big(g.t2)! - origin) / 1000)
      .sort((x, y) => x - y)[0];
    const drain = fleet.find((f) => f.event === 'draining' && at(f) >= step.to_s);
    reaction = {
      decided_s: decided ? decided.t_s - step.from_s : null,
      connected_s: connected ? at(connected) - step.from_s : null,
      serving_s: serving !== undefined ? serving - step.from_s : null,
      drain_s: drain ? at(drain) - step.to_s : null,
    };
  }
  const inStep = (c: Rec) => {
    const t = ms(big(c.t0)! - origin) / 1000;
    return step !== null && t >= step.from_s && t < step.to_s;
  };
  return {
    label: r.label,
    policy: r.label.replace(/^scaling /, ''),
    phases,
    step,
    bins: b,
    active: active.map(({ t_s, active: n }) => ({ t_s, active: n })),
    reaction,
    during_step: { ...latencyOf(r.caller.filter(inStep)), cold: step ? cold.filter((t) => t >= step.from_s && t < step.to_s).length : 0 },
    total: { ...latencyOf(r.caller), cold: cold.length, max_active: Math.max(0, ...active.map((a) => a.active)) },
  };
}

// --- failover ------------------------------------------------------------------

export interface FailoverRun {
  label: string;
  retries: boolean;
  /** kill (SIGKILL) or freeze (SIGSTOP). */
  how: string;
  victim: string;
  kill_s: number;
  /** From the kill: the process gone (as its parent saw it; none for a freeze); the gateway's first fleet event for it (lost, unhealthy or ejected). */
  exited_ms: number | null;
  detected_ms: number | null;
  /** The last call sent to it, from the kill (negative: none after). */
  last_dispatch_ms: number | null;
  requests: number;
  /** Requests the caller saw fail. */
  errors: number;
  /**
   * Calls on the victim sent (or queued on its link) before the gateway
   * detected the failure and not answered before the kill: the calls in
   * flight on it as far as the gateway could know, the most the failure can
   * cost. `sent_after_kill` of them went out
   * between the kill and the detection.
   */
  in_flight_at_loss: number;
  sent_after_kill: number;
  /** Failed calls whose worker was the victim, and failed calls elsewhere. */
  failed_on_victim: number;
  failed_elsewhere: number;
  retried: number;
  /** By when the caller had the answer: before the kill; from it until a second after the detection; after that. */
  before: Latency;
  meanwhile: Latency;
  after: Latency;
  /** Per 250 ms: responses, errors and p99 of the caller; calls sent to each worker. */
  bins: Array<Bin & { by_worker: Record<string, number> }>;
}

export function failoverRun(r: RunRecords, binS = 0.25): FailoverRun | null {
  const kill = r.events.find((e) => e.event === 'kill' || e.event === 'freeze');
  if (!kill || r.caller.length === 0) return null;
  const origin = r.caller.reduce((m, c) => (big(c.t0)! < m ? big(c.t0)! : m), big(r.caller[0]!.t0)!);
  const tk = big(kill.t)!;
  const rel = (t: bigint) => ms(t - tk);
  const victim = kill.worker as string;
  const exited = r.events.find((e) => e.event === 'exited' && e.worker === victim);
  const detect = r.gatewayFleet
    .filter((f) => f.worker === victim && ['lost', 'unhealthy', 'ejected'].includes(f.event as string) && big(f.t)! >= tk)
    .sort((a, b) => (big(a.t)! < big(b.t)! ? -1 : 1))[0];
  const td = detect ? big(detect.t)! : null;
  const gatewayById = new Map(r.gateway.map((g) => [g.id as string, g]));
  // A retried call's first attempt is the one on the victim.
  const attemptOn = (g: Rec) => ((g.retry as Rec | undefined)?.worker === victim ? { t2: big((g.retry as Rec).t2), t4: null } : g.worker === victim ? { t2: big(g.t2), t4: big(g.t4) } : null);
  // An attempt without t2 was queued on the victim's link and never written: lost with it all the same.
  const attempts = r.gateway.map(attemptOn).filter((a): a is { t2: bigint | null; t4: bigint | null } => a !== null);
  // Sent (or queued) before the gateway knew, not answered before the kill: a failed call's t4 is its failure, stamped before the loss is logged.
  const inFlight = td === null ? [] : attempts.filter((a) => (a.t2 === null || a.t2 < td) && (a.t4 === null || a.t4 > tk));
  const failedCalls = r.caller.filter(failed);
  const failedOn = failedCalls.filter((c) => gatewayById.get(c.id as string)?.worker === victim);
  const lastDispatch = attempts.reduce<bigint | null>((m, a) => (a.t2 === null || (m !== null && a.t2 <= m) ? m : a.t2), null);
  const windowEnd = (td ?? tk) + 1_000_000_000n;
  const answeredIn = (c: Rec, from: bigint | null, to: bigint | null) => {
    const t6 = big(c.t6)!;
    return (from === null || t6 >= from) && (to === null || t6 < to);
  };
  const end = r.caller.reduce((m, c) => Math.max(m, ms(big(c.t6)! - origin) / 1000), 0);
  const byBin = bins(r.caller, origin, binS, end).map((b) => ({ ...b, by_worker: {} as Record<string, number> }));
  for (const g of r.gateway) {
    const t2 = big(g.t2);
    if (t2 === null || typeof g.worker !== 'string') continue;
    const i = Math.floor(ms(t2 - origin) / 1000 / binS);
    if (i >= 0 && i < byBin.length) byBin[i]!.by_worker[g.worker] = (byBin[i]!.by_worker[g.worker] ?? 0) + 1;
  }
  return {
    label: r.label,
    retries: /retries on/.test(r.label),
    how: kill.event as string,
    victim,
    kill_s: ms(tk - origin) / 1000,
    exited_ms: exited ? rel(big(exited.t)!) : null,
    detected_ms: td === null ? null : rel(td),
    last_dispatch_ms: lastDispatch === null ? null : rel(lastDispatch),
    requests: r.caller.length,
    errors: failedCalls.length,
    in_flight_at_loss: inFlight.length,
    sent_after_kill: inFlight.filter((a) => a.t2 !== null && a.t2 >= tk).length,
    failed_on_victim: failedOn.length,
    failed_elsewhere: failedCalls.length - failedOn.length,
    retried: r.gateway.filter((g) => g.retry).length,
    before: latencyOf(r.caller.filter((c) => answeredIn(c, null, tk))),
    meanwhile: latencyOf(r.caller.filter((c) => answeredIn(c, tk, windowEnd))),
    after: latencyOf(r.caller.filter((c) => answeredIn(c, windowEnd, null))),
    bins: byBin,
  };
}

// --- grey ----------------------------------------------------------------------

export interface GreyRun extends Latency {
  label: string;
  balance: string;
  ejection: boolean;
  requests_per_s: number;
  slow: string | null;
  /** The slow worker's share of the calls. */
  slow_share: number;
  ejections: number;
}

export function greyRun(r: RunRecords): GreyRun | null {
  const m = /^grey (\S+) ejection (on|off)$/.exec(r.label);
  if (!m || r.caller.length === 0) return null;
  const slow = (r.events.find((e) => e.event === 'slow')?.worker as string | undefined) ?? null;
  const t0 = r.caller.reduce((x, c) => Math.min(x, ms(big(c.t0)!)), Infinity);
  const t6 = r.caller.reduce((x, c) => Math.max(x, ms(big(c.t6)!)), -Infinity);
  const dispatched = r.gateway.filter((g) => typeof g.worker === 'string');
  return {
    label: r.label,
    balance: m[1]!,
    ejection: m[2] === 'on',
    ...latencyOf(r.caller),
    requests_per_s: r.caller.length / ((t6 - t0) / 1000),
    slow,
    slow_share: dispatched.length ? dispatched.filter((g) => g.worker === slow).length / dispatched.length : NaN,
    ejections: r.gatewayFleet.filter((f) => f.event === 'ejected').length,
  };
}

// --- replicas (seed 003) ---------------------------------------------------------

export interface ReplicaRow extends Latency {
  workers: number;
  balance: string;
  /** The caller's label (the front) and the path: a row per cell kind of each step. */
  front: string;
  path: string;
  requests_per_s: number;
}

/** Throughput and failures against the number of workers: every measured caller record joined to its gateway's `workers` and `balance`. */
export function replicaRows(caller: Rec[], gateway: Rec[]): ReplicaRow[] {
  const byId = new Map(gateway.filter((g) => g.type === undefined).map((g) => [g.id as string, g]));
  const groups = new Map<string, { row: Omit<ReplicaRow, keyof Latency | 'requests_per_s'>; calls: Rec[] }>();
  for (const c of caller) {
    if (c.type !== undefined || c.warmup === true) continue;
    const g = byId.get(c.id as string);
    if (!g) continue;
    const row = { workers: g.workers as number, balance: g.balance as string, front: String(c.label ?? g.framework), path: String(c.path) };
    const key = JSON.stringify(row);
    const entry = groups.get(key) ?? { row, calls: [] };
    entry.calls.push(c);
    groups.set(key, entry);
  }
  return [...groups.values()]
    .map(({ row, calls }) => {
      // Closed-loop cells of one step run back to back: their span is the step's time on this cell kind (rounds would add gaps).
      const t0 = calls.reduce((x, c) => Math.min(x, ms(big(c.t0)!)), Infinity);
      const t6 = calls.reduce((x, c) => Math.max(x, ms(big(c.t6)!)), -Infinity);
      return { ...row, ...latencyOf(calls), requests_per_s: calls.length / ((t6 - t0) / 1000) };
    })
    .sort((a, b) => a.workers - b.workers || (a.balance < b.balance ? -1 : a.balance > b.balance ? 1 : 0));
}
