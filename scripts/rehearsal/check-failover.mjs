#!/usr/bin/env node
// The rehearsal's failover cell: one worker host's service was killed
// (SIGKILL) while a caller drove a gateway. Checks that nothing but the calls
// in flight on that worker was lost: every request the caller saw fail was
// sent (or queued) to the killed worker before the gateway lost it and failed with
// worker_unavailable; no call went to it after; there were at least that many
// calls in flight on it; the gateway served on afterwards without a failure.
// Stamps compared are the gateway's own (one clock).
//
//   node check-failover.mjs GATEWAY_RECORDS CALLER_RECORDS VICTIM CONNECTIONS
//
// Prints one JSON summary line on stdout; exits 1 listing every failed check.
import { readFileSync } from 'node:fs';

const [gatewayFile, callerFile, victim, connectionsText] = process.argv.slice(2);
if (!gatewayFile || !callerFile || !victim || !connectionsText) {
  console.error('usage: check-failover.mjs GATEWAY_RECORDS CALLER_RECORDS VICTIM CONNECTIONS');
  process.exit(2);
}
const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const gatewayAll = lines(gatewayFile);
const caller = lines(callerFile).filter((r) => r.role === 'caller' && r.type === undefined);
const gateway = new Map(gatewayAll.filter((r) => r.type === undefined).map((r) => [r.id, r]));
const failures = [];
const check = (ok, what) => ok || failures.push(what);
const big = (v) => (typeof v === 'string' ? BigInt(v) : null);

const lost = gatewayAll.find((r) => r.type === 'fleet' && r.event === 'lost' && r.worker === victim);
check(lost, `the gateway has no fleet record "lost" for ${victim}`);
const tLost = lost ? BigInt(lost.t) : 0n;
const failed = caller.filter((c) => c.status !== 200 || c.error !== null);
const onVictim = [...gateway.values()].filter((g) => g.worker === victim);
// Given to the victim before the loss was logged and not answered by then. A call queued on its link and never
// written has no t2; a call the lost connection failed is stamped t4 just before the loss is logged.
const lostWith = (g) => g.error === 'worker_unavailable';
const sentBefore = (g) => (big(g.t2) === null ? lostWith(g) : big(g.t2) < tLost);
const inFlight = onVictim.filter((g) => sentBefore(g) && (lostWith(g) || big(g.t4) === null || big(g.t4) > tLost));
for (const c of failed) {
  const g = gateway.get(c.id);
  check(g, `failed request ${c.id} has no gateway record`);
  if (!g) continue;
  check(g.worker === victim, `failed request ${c.id} went to ${g.worker}, not the killed worker`);
  check(g.error === 'worker_unavailable', `failed request ${c.id}: ${g.error}, not worker_unavailable`);
  check(sentBefore(g), `failed request ${c.id} was not in flight when the worker was lost`);
}
const after = onVictim.filter((g) => big(g.t2) !== null && big(g.t2) > tLost);
check(after.length === 0, `${after.length} calls sent to the killed worker after it was lost`);
check(failed.length <= inFlight.length, `${failed.length} failed, but only ${inFlight.length} calls were in flight on the killed worker`);
check(failed.length <= Number(connectionsText), `${failed.length} failed, more than the ${connectionsText} connections could have in flight`);
const served = [...gateway.values()].filter((g) => big(g.t2) !== null && big(g.t2) > tLost);
check(served.length > 0, 'nothing was served after the loss');
check(served.every((g) => g.status === 200), 'a call failed after the loss');
check(caller.every((c) => gateway.has(c.id)), 'a caller request has no gateway record');
check(onVictim.some((g) => g.status === 200), 'the killed worker served nothing before: the cell did not test a loss under load');

console.log(
  JSON.stringify({
    ok: failures.length === 0,
    requests: caller.length,
    failed: failed.length,
    in_flight_on_victim_at_loss: inFlight.length,
    served_by_victim: onVictim.filter((g) => g.status === 200).length,
    served_after_loss: served.length,
  }),
);
if (failures.length > 0) {
  for (const f of failures) console.error(`check failed: ${f}`);
  process.exit(1);
}
