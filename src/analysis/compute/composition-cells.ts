/**
 * The composition experiments' figures (experiment: compose), from the trees
 * of one run directory: each tree is put in its cell by its caller record
 * (the label names the variant, the path the size, and the connections),
 * and each cell summarised: the overhead per hop, the gaps, the critical
 * path, the stages; the waterfall of one chain; the share of a cold chain
 * that booting ahead hides. Pure over parsed records and the run's plan.
 */
import type { CallTree, Rec } from '../read/tree.js';
import { distribution, hopStages, HOP_STAGES, summarizeTree, type Distribution, type HopStages } from './composition.js';

/** A record directory holds a composition experiment when `faasbench run` left this plan beside the records. */
export const COMPOSE_PLAN = 'compose-plan.json';

/** compose-plan.json, as the run wrote it. */
export interface ComposePlanFile {
  shape: 'chain' | 'fanout' | 'payload' | 'cold';
  sizes: number[];
  fn: string;
  length: number | null;
  variants: { label: string; mode: string; coordinator: string; boot: string; warm: boolean }[];
  paths: Record<string, number>;
}

export interface ComposeCellSummary {
  variant: string;
  mode: string;
  coordinator: string;
  boot: string;
  warm: boolean;
  size: number;
  connections: number;
  /** Measured requests whose tree is complete. */
  requests: number;
  /** Measured requests that failed, or whose tree lacks a side. */
  errors: number;
  incomplete: number;
  roundtrip_us: Distribution;
  /** The root's function: the whole composition, coordinator included. */
  root_function_us: Distribution;
  /** Each top-level hop's overhead: its time as the caller saw it minus the callee's function. */
  hop_overhead_us: Distribution;
  /** Per request: (root function − the hops' functions) / hops. */
  overhead_per_hop_us: Distribution;
  /** From a function's end to the next one's start. */
  gap_us: Distribution;
  critical_path_us: Distribution;
  critical_path_hops: number;
  parallelism: number;
  /** Medians of each hop stage, µs (null where the mode has no such stage). */
  stage_p50_us: Record<string, number | null>;
  cold_hops_per_request: number;
  /** Per request, summed over its hops that waited for an instance to start: the starts' length (spawn → init), and the part of it after the call arrived (what the call waited for), µs medians. */
  cold_boot_us: number;
  cold_exposed_us: number;
}

/** A tree's instance starts that calls waited for: their total length, and the part after each call arrived (ns). */
export function coldStarts(t: CallTree): { boot: number; exposed: number } {
  let boot = 0;
  let exposed = 0;
  for (const h of t.hops) {
    const w = h.worker;
    if (!w || w.cold !== true || typeof w.cold_spawn !== 'string' || typeof w.cold_init !== 'string' || typeof w.t3_recv !== 'string') continue;
    const spawn = BigInt(w.cold_spawn);
    const init = BigInt(w.cold_init);
    const recv = BigInt(w.t3_recv);
    boot += Number(init - spawn);
    exposed += Math.max(0, Number(init - (recv > spawn ? recv : spawn)));
  }
  return { boot, exposed };
}

const us = (xs: number[]) => distribution(xs.map((x) => x / 1e3));
const median = (xs: number[]) => distribution(xs).p50;

export interface CellKey {
  variant: string;
  size: number;
  connections: number;
}

/** The cell of each tree (by its caller record), measured requests only. */
export function cellsOf(plan: ComposePlanFile, trees: readonly CallTree[]): Map<string, { key: CellKey; trees: CallTree[]; failed: number }> {
  const cells = new Map<string, { key: CellKey; trees: CallTree[]; failed: number }>();
  for (const t of trees) {
    const c = t.caller;
    if (!c || c.warmup === true || typeof c.label !== 'string' || typeof c.path !== 'string') continue;
    const size = plan.paths[c.path];
    if (size === undefined) continue;
    const key = { variant: c.label, size, connections: Number(c.connections) };
    const name = `${key.variant}\u0000${key.size}\u0000${key.connections}`;
    let cell = cells.get(name);
    if (!cell) cells.set(name, (cell = { key, trees: [], failed: 0 }));
    if (c.status === 200) cell.trees.push(t);
    else cell.failed++;
  }
  return cells;
}

export function summarizeCells(plan: ComposePlanFile, trees: readonly CallTree[]): ComposeCellSummary[] {
  const out: ComposeCellSummary[] = [];
  const order = new Map(plan.variants.map((v, i) => [v.label, i]));
  for (const { key, trees: ts, failed } of cellsOf(plan, trees).values()) {
    const v = plan.variants.find((x) => x.label === key.variant);
    if (!v) continue;
    const sums = ts.map(summarizeTree);
    const complete = sums.filter((s) => s.complete && s.hops.length > 0 && s.hops.every((h) => h.error === null));
    const top = complete.flatMap((s) => s.hops.filter((h) => h.depth === 1));
    const stage_p50_us: Record<string, number | null> = {};
    for (const st of HOP_STAGES) {
      const xs = top.map((h) => h[st]).filter((x): x is number => x !== null);
      stage_p50_us[st] = xs.length ? median(xs) / 1e3 : null;
    }
    const crit = complete.map((s) => s.critical);
    const completeIds = new Set(complete.map((s) => s.id));
    const completeTrees = ts.filter((t) => completeIds.has(t.id));
    out.push({
      variant: v.label,
      mode: v.mode,
      coordinator: v.coordinator,
      boot: v.boot,
      warm: v.warm,
      size: key.size,
      connections: key.connections,
      requests: complete.length,
      errors: failed + (sums.length - complete.length),
      incomplete: sums.filter((s) => !s.complete).length,
      roundtrip_us: us(completeTrees.map((t) => Number(BigInt(t.caller!.t6 as string) - BigInt(t.caller!.t0 as string)))),
      root_function_us: us(complete.map((s) => s.root_function)),
      hop_overhead_us: us(top.map((h) => h.overhead)),
      overhead_per_hop_us: us(complete.map((s) => s.overhead_per_hop)),
      gap_us: us(complete.flatMap((s) => s.gaps.between)),
      critical_path_us: us(crit.map((c) => c.ns)),
      critical_path_hops: median(crit.map((c) => c.hops.length)),
      parallelism: median(crit.map((c) => c.parallelism)),
      stage_p50_us,
      cold_hops_per_request: complete.length ? complete.reduce((a, s) => a + s.cold_hops, 0) / complete.length : NaN,
      cold_boot_us: median(completeTrees.map((t) => coldStarts(t).boot)) / 1e3,
      cold_exposed_us: median(completeTrees.map((t) => coldStarts(t).exposed)) / 1e3,
    });
  }
  return out.sort((a, b) => a.size - b.size || a.connections - b.connections || (order.get(a.variant) ?? 0) - (order.get(b.variant) ?? 0));
}

/** One bar segment of a waterfall: a hop's stage, in µs from the root function's start. */
export interface WaterfallRow {
  hop: string;
  order: number;
  stage: string;
  from_us: number;
  to_us: number;
}

/**
 * The waterfall of one request: each hop from the moment it was made to its
 * answer, split into its stages in the order they happen. Only for trees
 * whose every hop ran on the root's host (one clock); null otherwise.
 */
export function waterfall(t: CallTree): WaterfallRow[] | null {
  const root = t.root.worker;
  if (!root || typeof root.t3_start !== 'string') return null;
  const host = root.host;
  const base = BigInt(root.t3_start);
  const at = (r: Rec | null, k: string) => (r && typeof r[k] === 'string' ? Number(BigInt(r[k] as string) - base) / 1e3 : NaN);
  const rows: WaterfallRow[] = [];
  let order = 0;
  for (const h of t.hops) {
    const st: HopStages | null = hopStages(h);
    if (!st || h.worker?.host !== host || (h.gateway && h.gateway.host !== host)) return null;
    const w = h.worker;
    const g = h.gateway;
    const cSend = Number(h.call!.c_send - base) / 1e3;
    const cRecv = Number(h.call!.c_recv! - base) / 1e3;
    const points: [string, number, number][] =
      h.via === 'http'
        ? [
            ['link', cSend, at(g, 't1')],
            ['gateway_in', at(g, 't1'), at(g, 't2')],
            ['rpc_link', at(g, 't2'), at(w, 't3_recv')],
            ['worker_queue', at(w, 't3_recv'), at(w, 't3_start')],
            ['function', at(w, 't3_start'), at(w, 't3_end')],
            ['worker_out', at(w, 't3_end'), at(w, 't3_send')],
            ['rpc_link', at(w, 't3_send'), at(g, 't4')],
            ['respond', at(g, 't4'), at(g, 't5')],
            ['link', at(g, 't5'), cRecv],
          ]
        : [
            ['link', cSend, at(w, 't3_recv')],
            ['worker_queue', at(w, 't3_recv'), at(w, 't3_start')],
            ['function', at(w, 't3_start'), at(w, 't3_end')],
            ['worker_out', at(w, 't3_end'), at(w, 't3_send')],
            ['link', at(w, 't3_send'), cRecv],
          ];
    const label = `${h.step ?? h.id} (${h.fn})`;
    for (const [stage, from, to] of points) rows.push({ hop: label, order, stage, from_us: from, to_us: to });
    order++;
  }
  return rows;
}

/** The tree of a cell whose root function is the median: the request the waterfall draws. */
export function medianTree(trees: readonly CallTree[]): CallTree | null {
  const ok = trees.map((t) => ({ t, s: summarizeTree(t) })).filter((x) => x.s.complete && x.s.hops.length > 0);
  if (ok.length === 0) return null;
  ok.sort((a, b) => a.s.root_function - b.s.root_function);
  return ok[Math.floor((ok.length - 1) / 2)]!.t;
}

/**
 * Cold chains: per mode, coordinator and size, the share of the cold
 * chain's extra time that a boot-ahead policy hides: 1 − (policy − warm) /
 * (none − warm), medians of the root function (the whole chain).
 */
export interface ColdHidden {
  mode: string;
  coordinator: string;
  size: number;
  warm_us: number;
  none_us: number;
  policy: string;
  policy_us: number;
  hidden_share: number;
  /** Calls per chain that waited for an instance start, and of those starts (µs, medians per chain) the part after the call arrived, of their length. */
  cold_hops: number;
  boot_us: number;
  exposed_us: number;
}

export function coldHidden(cells: readonly ComposeCellSummary[]): ColdHidden[] {
  const out: ColdHidden[] = [];
  const groups = new Map<string, ComposeCellSummary[]>();
  for (const c of cells) {
    const k = `${c.mode}\u0000${c.coordinator}\u0000${c.size}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const cs of groups.values()) {
    const warm = cs.find((c) => c.warm);
    const none = cs.find((c) => !c.warm && c.boot === 'none');
    if (!warm || !none) continue;
    for (const p of cs.filter((c) => !c.warm)) {
      const w = warm.root_function_us.p50;
      const n = none.root_function_us.p50;
      out.push({
        mode: p.mode,
        coordinator: p.coordinator,
        size: p.size,
        warm_us: w,
        none_us: n,
        policy: p.boot,
        policy_us: p.root_function_us.p50,
        hidden_share: n > w ? 1 - (p.root_function_us.p50 - w) / (n - w) : NaN,
        cold_hops: p.cold_hops_per_request,
        boot_us: p.cold_boot_us,
        exposed_us: p.cold_exposed_us,
      });
    }
  }
  return out;
}
