/**
 * Calls that made calls, joined into one tree per request: the root is the
 * call from the gateway (its worker record, with its gateway and caller
 * records), each hop a nested call with its two sides: the caller's view
 * (an entry of its parent's `calls`, on the parent's clock) and the callee's
 * worker record (and, through a gateway, that gateway's record), joined by
 * the hop's id. docs/composition.md, "Nested calls in the records", is the contract read here.
 */

import type { OutgoingCall } from '../../trace/records.js';

export type Rec = Record<string, unknown>;

/** The caller's side of a hop: one entry of the parent's `calls`, as the worker writes it. */
export type CallSide = OutgoingCall;

export interface Hop {
  id: string;
  /** null for the root. */
  parent: string | null;
  depth: number;
  fn: string;
  /** `root`, or how the call travelled: local, rpc, http. */
  via: string;
  step: string | null;
  call: CallSide | null;
  worker: Rec | null;
  gateway: Rec | null;
  children: Hop[];
}

export interface CallTree {
  id: string;
  root: Hop;
  /** Every hop below the root, parents before children, siblings in the order they were called. */
  hops: Hop[];
  caller: Rec | null;
}

const stamp = (v: unknown): bigint | null => (typeof v === 'string' && /^\d{1,21}$/.test(v) ? BigInt(v) : null);

function callSide(c: unknown): CallSide | null {
  if (typeof c !== 'object' || c === null) return null;
  const r = c as Rec;
  const c_send = stamp(r.c_send);
  if (typeof r.id !== 'string' || typeof r.fn !== 'string' || c_send === null) return null;
  return {
    id: r.id,
    fn: r.fn,
    via: typeof r.via === 'string' ? r.via : '?',
    step: typeof r.step === 'string' ? r.step : null,
    error: typeof r.error === 'string' ? r.error : null,
    c_send,
    c_recv: stamp(r.c_recv),
  };
}

/**
 * One tree per request that made nested calls. Records are request records
 * (no `type`) of any number of files; a hop whose callee record is missing
 * (a worker that kept no records) still appears, from its caller's side.
 */
export function joinTrees(worker: readonly Rec[], gateway: readonly Rec[] = [], caller: readonly Rec[] = []): CallTree[] {
  const workerById = new Map<string, Rec>();
  const childrenOf = new Map<string, Rec[]>();
  for (const w of worker) {
    if (typeof w.id !== 'string' || w.type !== undefined) continue;
    workerById.set(w.id, w);
    if (typeof w.parent === 'string') {
      const list = childrenOf.get(w.parent);
      if (list) list.push(w);
      else childrenOf.set(w.parent, [w]);
    }
  }
  const gatewayById = new Map<string, Rec>();
  for (const g of gateway) if (typeof g.id === 'string' && g.type === undefined) gatewayById.set(g.id, g);
  const callerById = new Map<string, Rec>();
  for (const c of caller) if (typeof c.id === 'string' && c.type === undefined) callerById.set(c.id, c);

  const build = (id: string, parent: string | null, depth: number, call: CallSide | null, seen: Set<string>): Hop => {
    seen.add(id);
    const w = workerById.get(id) ?? null;
    const hop: Hop = {
      id,
      parent,
      depth,
      fn: call?.fn ?? (typeof w?.fn === 'string' ? w.fn : '?'),
      via: parent === null ? 'root' : (call?.via ?? '?'),
      step: call?.step ?? null,
      call,
      worker: w,
      gateway: gatewayById.get(id) ?? null,
      children: [],
    };
    const sides = Array.isArray(w?.calls) ? (w.calls as unknown[]).map(callSide).filter((c): c is CallSide => c !== null) : [];
    sides.sort((a, b) => (a.c_send < b.c_send ? -1 : a.c_send > b.c_send ? 1 : 0));
    for (const c of sides) if (!seen.has(c.id)) hop.children.push(build(c.id, id, depth + 1, c, seen));
    // A callee whose caller kept no record of the call.
    for (const orphan of childrenOf.get(id) ?? []) if (!seen.has(orphan.id as string)) hop.children.push(build(orphan.id as string, id, depth + 1, null, seen));
    return hop;
  };

  const trees: CallTree[] = [];
  for (const w of workerById.values()) {
    if (typeof w.parent === 'string') continue;
    if (!Array.isArray(w.calls) && !childrenOf.has(w.id as string)) continue;
    const id = w.id as string;
    const root = build(id, null, 0, null, new Set());
    const hops: Hop[] = [];
    const walk = (h: Hop) => h.children.forEach((c) => (hops.push(c), walk(c)));
    walk(root);
    trees.push({ id, root, hops, caller: callerById.get(id) ?? null });
  }
  return trees;
}
