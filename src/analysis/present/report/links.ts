/**
 * The report's view of kernel stamps: one sentence per endpoint under the
 * answer, the links' split per cell, and what the tracers saw and cost.
 */
import { esc, table } from './html.js';
import { fmtInt, fmtPct, fmtUs } from '../../compute/format.js';
import type { CellSummary } from '../../compute/cells.js';
import type { LinkSplit } from '../../compute/links.js';
import type { Summary } from '../../compute/summary-types.js';
import { KERNEL_STAMPS } from '../../read/kernel-join.js';

/** "The kernel splits the caller link (31.2%) into …": shares of the roundtrip, over the requests with the split. */
export function linkSentence(split: LinkSplit | null, count: number): string {
  if (split === null) return '';
  const parts: string[] = [];
  const c = split.caller;
  if (c) {
    parts.push(
      `the caller link (${fmtPct(c.shares.caller_link)}) into ${fmtPct(c.shares.wire)} wire, ${fmtPct(c.shares.gateway_socket_wait)} gateway socket wait ` +
        `and ${fmtPct(c.shares.caller_socket_wait)} caller socket wait`,
    );
  }
  const r = split.rpc;
  if (r) {
    parts.push(
      `the RPC link (${fmtPct(r.shares.rpc_link)}) into ${fmtPct(r.shares.rpc_wire)} RPC wire, ${fmtPct(r.shares.worker_socket_wait)} worker socket wait ` +
        `and ${fmtPct(r.shares.gateway_reply_wait)} gateway reply wait`,
    );
  }
  const n = Math.min(c?.requests ?? Infinity, r?.requests ?? Infinity);
  const over = n < count ? ` (over the ${fmtInt(n)} of ${fmtInt(count)} requests with kernel stamps)` : '';
  return ` The kernel splits ${parts.join(', and ')}${over}.`;
}

/** Per cell: each link, its parts (mean µs, the parts adding up to the link) and their shares of the roundtrip. */
export function linksSection(s: Summary): string {
  if (s.kernel === null) return '';
  const cells = s.cells.filter((c) => c.link_split !== null);
  const k = s.kernel;
  const mean = (v: number | undefined) => fmtUs(v);
  const rows = cells.map((c) => ({ c, l: c.link_split! }));
  const splitTable = rows.length
    ? table(rows, [
        { head: 'framework', cell: ({ c }) => esc(c.framework) },
        { head: 'endpoint', cell: ({ c }) => esc(c.endpoint) },
        { head: 'conn.', cell: ({ c }) => fmtInt(c.connections), num: true },
        { head: 'caller link µs', cell: ({ l }) => `<strong>${mean(l.caller?.mean_us.caller_link)}</strong>`, num: true },
        { head: '= wire', cell: ({ l }) => mean(l.caller?.mean_us.wire), num: true },
        { head: '+ gateway socket wait', cell: ({ l }) => mean(l.caller?.mean_us.gateway_socket_wait), num: true },
        { head: '+ caller socket wait', cell: ({ l }) => mean(l.caller?.mean_us.caller_socket_wait), num: true },
        { head: 'RPC link µs', cell: ({ l }) => `<strong>${mean(l.rpc?.mean_us.rpc_link)}</strong>`, num: true },
        { head: '= RPC wire', cell: ({ l }) => mean(l.rpc?.mean_us.rpc_wire), num: true },
        { head: '+ worker socket wait', cell: ({ l }) => mean(l.rpc?.mean_us.worker_socket_wait), num: true },
        { head: '+ gateway reply wait', cell: ({ l }) => mean(l.rpc?.mean_us.gateway_reply_wait), num: true },
        { head: 'requests split', cell: ({ c, l }) => `${fmtInt(Math.min(l.caller?.requests ?? Infinity, l.rpc?.requests ?? Infinity))} of ${fmtInt(c.measured)}`, num: true },
      ], 'Means in µs over the requests with kernel stamps; each link\'s parts add up to it. Medians are in summary.json (cells[].link_split).')
    : '<p>No request in the figures has both arrivals of a link: see the warnings.</p>';
  const tracers = table(k.tracers, [
    { head: 'role', cell: (x) => esc(x.role) },
    { head: 'host', cell: (x) => esc(x.host), wrap: true },
    { head: 'pid', cell: (x) => fmtInt(x.pid), num: true },
    { head: 'events lost', cell: (x) => (x.lost > 0 ? `<strong>${fmtInt(x.lost)}</strong>` : '0'), num: true },
    { head: 'tracer CPU s', cell: (x) => (x.tracer_cpu_us === null ? '–' : (x.tracer_cpu_us / 1e6).toFixed(2)), num: true, title: 'user + system time of the bpftrace process, its start-up included' },
    { head: '', cell: (x) => (x.stopped ? esc(x.tracer ?? '') : '<strong>no stop line</strong>'), wrap: true },
  ]);
  const found = KERNEL_STAMPS.filter((st) => k.stamps.wanted[st] > 0)
    .map((st) => `${st} ${fmtInt(k.stamps.found[st])} of ${fmtInt(k.stamps.wanted[st])}`)
    .join(', ');
  return `<section><h2>The links, split by the kernel</h2>
<p>Each role's tracer (bpftrace on the kernel's TCP tracepoints) stamped when a message's first segment reached a socket: the request at the
gateway's (k1), the response at the caller's (k6), the call at the worker's (k3), the reply at the gateway's (k4); and when the gateway's
kernel took the response (k5), which stands for t5 in every stage. So the caller link is <em>wire</em> ((k6−t0)−(t5−k1), both directions) +
<em>gateway socket wait</em> (t1−k1: the request ready in the gateway's socket until its loop read it) + <em>caller socket wait</em> (t6−k6),
and the RPC link is <em>RPC wire</em> ((k4−t2)−(t3_send−k3)) + <em>worker socket wait</em> (t3_recv−k3) + <em>gateway reply wait</em> (t4−k4).</p>
${splitTable}
<p class="meta">Stamps found: ${found || 'none'}. Events the tracers wrote: ${fmtInt(k.events.msg)} message starts, ${fmtInt(k.events.seg)} segments,
${fmtInt(k.events.send)} sends, ${fmtInt(k.events.sock)} sockets.</p>
${tracers}</section>`;
}
