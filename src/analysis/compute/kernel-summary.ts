/**
 * summary.json's `kernel`: the tracers (what each lost and cost), what they
 * saw, and how many requests found each kernel stamp; and the warnings a
 * reader needs before trusting the links' split.
 */
import type { KernelIngest, TracerRun } from '../read/kernel.js';
import { KERNEL_STAMPS, type KernelJoinCounts, type KernelStamp } from '../read/kernel-join.js';
import type { RequestTable } from '../read/table.js';
import { fmtInt, fmtPct } from './format.js';
import { stageAt } from './stage-columns.js';

export interface KernelSummary {
  tracers: TracerRun[];
  /** Lines the tracers wrote, by kind: sockets, message starts, segments, sends. */
  events: { sock: number; msg: number; seg: number; send: number };
  /** Events the tracers lost (ring buffer full), over all of them. */
  lost: number;
  /** CPU the tracers' own processes took, µs, over all that said (their start-up included); null when none did. */
  tracer_cpu_us: number | null;
  /** Records that named their connection, by role. */
  linked: { caller: number; gateway: number; worker: number };
  /** Per kernel stamp: requests that wanted it (their record named a connection), found it, and why not. */
  stamps: KernelJoinCounts;
  /** Requests in the figures, and those of them with each link's split. */
  split: { measured: number; caller_link: number; rpc_link: number };
}

export function summarizeKernel(t: RequestTable, k: KernelIngest, counts: KernelJoinCounts, measured: Uint8Array): KernelSummary {
  let inFigures = 0;
  let caller = 0;
  let rpc = 0;
  for (let i = 0; i < measured.length; i++) {
    if (measured[i] !== 1) continue;
    inFigures++;
    if (stageAt(t, 'wire', i) === stageAt(t, 'wire', i)) caller++;
    if (stageAt(t, 'rpc_wire', i) === stageAt(t, 'rpc_wire', i)) rpc++;
  }
  const cpu = k.tracers.filter((x) => x.tracer_cpu_us !== null);
  return {
    tracers: k.tracers,
    events: { ...k.events },
    lost: k.tracers.reduce((n, x) => n + x.lost, 0),
    tracer_cpu_us: cpu.length ? cpu.reduce((n, x) => n + x.tracer_cpu_us!, 0) : null,
    linked: { ...k.linked },
    stamps: counts,
    split: { measured: inFigures, caller_link: caller, rpc_link: rpc },
  };
}

const WHO: Record<KernelStamp, string> = {
  k1: "the gateway's records",
  k5: "the gateway's records",
  k6: "the caller's records",
  k3: "the worker's records",
  k4: "the gateway's records",
};

export function kernelWarnings(k: KernelSummary): string[] {
  const w: string[] = [];
  if (k.lost > 0) {
    const where = k.tracers.filter((x) => x.lost > 0).map((x) => `${fmtInt(x.lost)} by the ${x.role} on ${x.host}`);
    w.push(
      `The kernel tracers lost ${fmtInt(k.lost)} events (their ring buffer was full): ${where.join(', ')}. ` +
        'A request whose message start or segment was lost has no split of its link; the others are unaffected.',
    );
  }
  for (const x of k.tracers.filter((r) => !r.stopped)) {
    w.push(`The kernel tracer of the ${x.role} on ${x.host} (pid ${x.pid}) has no stop line: the role was killed, and the events it had not yet written are missing.`);
  }
  for (const x of k.tracers.filter((r) => r.said)) w.push(`The kernel tracer of the ${x.role} on ${x.host} said: ${x.said}`);
  // A role that ran without --kernel-stamps while the others had them: one link cannot be split at all.
  const without = (stamp: KernelStamp, other: KernelStamp, link: string) => {
    if (k.stamps.wanted[stamp] === 0 && k.stamps.wanted[other] > 0) {
      w.push(`${cap(WHO[stamp])} name no connection, so the ${link} cannot be split: run that role with --kernel-stamps too.`);
    }
  };
  without('k6', 'k1', 'caller link');
  without('k1', 'k6', 'caller link');
  without('k3', 'k4', 'RPC link');
  without('k4', 'k3', 'RPC link');
  const s = k.split;
  for (const [link, have, stamps] of [
    ['caller link', s.caller_link, ['k1', 'k6']],
    ['RPC link', s.rpc_link, ['k3', 'k4']],
  ] as const) {
    if (have === 0 || have === s.measured) continue;
    const why = stamps.flatMap((st) => Object.entries(k.stamps.missing[st]).map(([reason, n]) => `${st} ${reason}: ${fmtInt(n)}`));
    w.push(
      `${fmtInt(s.measured - have)} of the ${fmtInt(s.measured)} requests in the figures (${fmtPct((s.measured - have) / s.measured)}) have no split of the ${link}; ` +
        `its parts are over the other ${fmtInt(have)}${why.length ? ` (all records: ${why.join(', ')})` : ''}.`,
    );
  }
  const noSend = k.stamps.wanted.k5 - k.stamps.found.k5;
  if (noSend > 0) {
    w.push(`${fmtInt(noSend)} request(s) have no kernel send (k5): their respond and caller link end at t5, as without kernel stamps.`);
  }
  return w;
}

/** The stamps any request wanted, for "what was read". */
export function wantedStamps(k: KernelSummary): KernelStamp[] {
  return KERNEL_STAMPS.filter((s) => k.stamps.wanted[s] > 0);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
