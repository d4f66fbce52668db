/**
 * What composing functions costs, per request tree (read/tree.ts): each
 * hop's stages, which add up to the hop as its caller saw it; the
 * composition overhead of a hop (everything but the callee's function); the
 * gap from one function's end to the next one's start; and the critical
 * path through parallel hops. Every duration is a difference taken on one
 * host (docs/measurement.md, Clocks), except a gap, which compares two
 * callees' stamps and is given only when both ran on one host.
 */
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { CallTree, Hop, Rec } from '../read/tree.js';

const ns = (r: Rec | null | undefined, k: string): number => (r && typeof r[k] === 'string' ? Number(BigInt(r[k] as string)) : NaN);
const ok = (...xs: number[]) => xs.every((x) => x === x);

/** A hop's stages in ns, in the order they happen; `total` is their sum. */
export interface HopStages {
  id: string;
  fn: string;
  via: string;
  step: string | null;
  depth: number;
  /** c_recv − c_send: the call as its caller saw it. */
  total: number;
  /** The rest of the hop: the wire, and the time bytes and messages waited on either side. */
  link: number;
  /** Through a gateway only: its stages, else null. */
  gateway_in: number | null;
  rpc_link: number | null;
  respond: number | null;
  worker_queue: number;
  function: number;
  worker_out: number;
  /** total − function: what the hop added to its function. */
  overhead: number;
  cold: boolean;
  error: string | null;
}

/** A hop's stages, or null when a side of it is missing (a caller that did not wait, a worker without records). */
export function hopStages(h: Hop): HopStages | null {
  const c = h.call;
  const w = h.worker;
  if (!c || c.c_recv === null || !w) return null;
  const total = Number(c.c_recv - c.c_send);
  const [recv, start, end, send] = [ns(w, 't3_recv'), ns(w, 't3_start'), ns(w, 't3_end'), ns(w, 't3_send')];
  if (!ok(recv, start, end, send)) return null;
  const inWorker = send - recv;
  let gateway_in: number | null = null;
  let rpc_link: number | null = null;
  let respond: number | null = null;
  let link = total - inWorker;
  if (h.via === 'http') {
    const g = h.gateway;
    const [t1, t2, t4, t5] = [ns(g, 't1'), ns(g, 't2'), ns(g, 't4'), ns(g, 't5')];
    if (!ok(t1, t2, t4, t5)) return null;
    link = total - (t5 - t1);
    gateway_in = t2 - t1;
    rpc_link = t4 - t2 - inWorker;
    respond = t5 - t4;
  }
  return {
    id: h.id,
    fn: h.fn,
    via: h.via,
    step: h.step,
    depth: h.depth,
    total,
    link,
    gateway_in,
    rpc_link,
    respond,
    worker_queue: start - recv,
    function: end - start,
    worker_out: send - end,
    overhead: total - (end - start),
    cold: w.cold === true,
    error: c.error ?? (typeof w.error === 'string' ? w.error : null),
  };
}

/** The order stages happen in, for tables and the waterfall. */
export const HOP_STAGES = ['link', 'gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond'] as const;

/**
 * The critical path through a hop's children: the longest chain of
 * children each made after the one before had answered, weighted by each
 * child's time as its caller saw it. Siblings that overlap are parallel and
 * never both on it. `parallelism`: the children's summed time over the path's.
 */
export interface CriticalPath {
  hops: string[];
  ns: number;
  parallelism: number;
}

export function criticalPath(parent: Hop): CriticalPath {
  const kids = parent.children.filter((h) => h.call && h.call.c_recv !== null);
  const best: number[] = [];
  const prev: number[] = [];
  kids.forEach((k, j) => {
    const own = Number(k.call!.c_recv! - k.call!.c_send);
    best[j] = own;
    prev[j] = -1;
    for (let i = 0; i < j; i++) {
      if (kids[i]!.call!.c_recv! <= k.call!.c_send && best[i]! + own > best[j]!) {
        best[j] = best[i]! + own;
        prev[j] = i;
      }
    }
  });
  if (kids.length === 0) return { hops: [], ns: 0, parallelism: 0 };
  let at = best.indexOf(Math.max(...best));
  const path: string[] = [];
  const total = best[at]!;
  while (at !== -1) path.unshift(kids[at]!.id), (at = prev[at]!);
  const sum = kids.reduce((s, k) => s + Number(k.call!.c_recv! - k.call!.c_send), 0);
  return { hops: path, ns: total, parallelism: total > 0 ? sum / total : 0 };
}

/**
 * From the end of the function whose answer let a hop start to that hop's
 * start, for each child made after a sibling had answered (a sequence's
 * steps, a fan-in after its fan-out), when both ran on one host: the
 * composition overhead as seed 004 means it. The first child's is from its
 * parent function's start (`lead`), and the parent's end is after the last
 * child's (`tail`).
 */
export interface Gaps {
  lead: number | null;
  between: number[];
  tail: number | null;
}

export function gapsOf(parent: Hop): Gaps {
  const pw = parent.worker;
  const host = (h: Hop | null) => (h?.worker && typeof h.worker.host === 'string' ? h.worker.host : null);
  const same = (a: Hop | null, b: Hop | null) => host(a) !== null && host(a) === host(b);
  const kids = parent.children.filter((h) => h.call && h.call.c_recv !== null && h.worker);
  const between: number[] = [];
  for (const k of kids) {
    // The sibling that answered last before this one was made.
    let before: Hop | null = null;
    for (const s of kids) if (s !== k && s.call!.c_recv! <= k.call!.c_send && (!before || s.call!.c_recv! > before.call!.c_recv!)) before = s;
    if (before && same(before, k)) {
      const gap = ns(k.worker, 't3_start') - ns(before.worker, 't3_end');
      if (gap === gap) between.push(gap);
    }
  }
  const first = kids[0] ?? null;
  const last = kids.reduce<Hop | null>((a, k) => (!a || k.call!.c_recv! > a.call!.c_recv! ? k : a), null);
  const lead = first && same(parent, first) ? ns(first.worker, 't3_start') - ns(pw, 't3_start') : null;
  const tail = last && same(parent, last) ? ns(pw, 't3_end') - ns(last.worker, 't3_end') : null;
  return { lead: lead === lead ? lead : null, between, tail: tail === tail ? tail : null };
}

/** One request's composition, as the report reads it. */
export interface TreeSummary {
  id: string;
  /** The root's function (the workflow, or the coordinator function), ns. */
  root_function: number;
  hops: HopStages[];
  /** Hops with both sides recorded / all hops. */
  complete: boolean;
  /** root function − the children's functions, per child: the composition cost per hop of a sequence. */
  overhead_per_hop: number;
  gaps: Gaps;
  critical: CriticalPath;
  cold_hops: number;
}

export function summarizeTree(t: CallTree): TreeSummary {
  const hops = t.hops.map(hopStages);
  const complete = hops.every((h) => h !== null);
  const got = hops.filter((h): h is HopStages => h !== null);
  const top = got.filter((h) => h.depth === 1);
  const rootFn = ns(t.root.worker, 't3_end') - ns(t.root.worker, 't3_start');
  return {
    id: t.id,
    root_function: rootFn,
    hops: got,
    complete,
    overhead_per_hop: top.length > 0 ? (rootFn - top.reduce((s, h) => s + h.function, 0)) / top.length : NaN,
    gaps: gapsOf(t.root),
    critical: criticalPath(t.root),
    cold_hops: got.filter((h) => h.cold).length,
  };
}

export interface Distribution {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function distribution(xs: readonly number[]): Distribution {
  const s = xs.filter((x) => x === x).sort((a, b) => a - b);
  if (s.length === 0) return { n: 0, p50: NaN, p99: NaN, mean: NaN };
  return { n: s.length, p50: percentileOfSorted(s, 50), p99: percentileOfSorted(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
