#!/usr/bin/env node
// Checks the rehearsal's kernel-stamps run: every role's tracer ran and
// stopped, lost no event, and every request in the figures has both links
// split (wire and socket waits), their parts adding up as the analysis says.
//
//   node check-kernel.mjs RESULTS_RUN_DIR
//
// Prints one JSON summary line on stdout; exits 1 listing every failed check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [runDir] = process.argv.slice(2);
if (!runDir) {
  console.error('usage: check-kernel.mjs RESULTS_RUN_DIR');
  process.exit(2);
}
const summary = JSON.parse(readFileSync(join(runDir, 'report', 'summary.json'), 'utf8'));
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const k = summary.kernel;
check(k !== null, 'summary.json has no kernel stamps');
if (k) {
  const roles = new Set(k.tracers.map((t) => t.role));
  for (const role of ['caller', 'gateway', 'worker']) check(roles.has(role), `no ${role} tracer`);
  for (const t of k.tracers) check(t.stopped, `the ${t.role} tracer on ${t.host} has no stop line`);
  check(k.lost === 0, `${k.lost} kernel events lost`);
  check(k.split.measured > 0, 'no request in the figures');
  check(k.split.caller_link === k.split.measured, `${k.split.caller_link} of ${k.split.measured} requests have the caller link split`);
  check(k.split.rpc_link === k.split.measured, `${k.split.rpc_link} of ${k.split.measured} requests have the RPC link split`);
  for (const cell of summary.cells) {
    const c = cell.link_split?.caller;
    const r = cell.link_split?.rpc;
    check(c && r, `${cell.framework} ${cell.endpoint}: no split`);
    if (!c || !r) continue;
    const near = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    check(near(c.mean_us.wire + c.mean_us.gateway_socket_wait + c.mean_us.caller_socket_wait, c.mean_us.caller_link), `${cell.framework} ${cell.endpoint}: the caller link's parts do not add up`);
    check(near(r.mean_us.rpc_wire + r.mean_us.worker_socket_wait + r.mean_us.gateway_reply_wait, r.mean_us.rpc_link), `${cell.framework} ${cell.endpoint}: the RPC link's parts do not add up`);
    check(c.mean_us.wire > 0 && r.mean_us.rpc_wire > 0, `${cell.framework} ${cell.endpoint}: a wire of 0 or less`);
  }
}
console.log(JSON.stringify({ tracers: k?.tracers.length ?? 0, lost: k?.lost ?? null, split: k?.split ?? null, failures: failures.length }));
if (failures.length > 0) {
  for (const f of failures) console.error(`check-kernel: ${f}`);
  process.exit(1);
}
