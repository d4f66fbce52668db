#!/usr/bin/env node
// Checks what the rehearsal's deployment brought back: the analysis joined
// caller, gateway and worker records (nothing left unjoined), and each role's
// records came from its own host (hostname and address).
//
//   node check-summary.mjs RESULTS_RUN_DIR EXPECTED.json
//
// EXPECTED: {"caller": {"host": H, "address": A}, "gateway": {...}, "workers": [{...}, ...]}
// Prints one JSON summary line on stdout; exits 1 listing every failed check.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [runDir, expectedFile] = process.argv.slice(2);
if (!runDir || !expectedFile) {
  console.error('usage: check-summary.mjs RESULTS_RUN_DIR EXPECTED.json');
  process.exit(2);
}
const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
const summary = JSON.parse(readFileSync(join(runDir, 'report', 'summary.json'), 'utf8'));
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// --- The joins -------------------------------------------------------------
const j = summary.joins;
check(j.joined > 0, `joins.joined is ${j.joined}, expected > 0`);
check(j.measured > 0, `joins.measured is ${j.measured}, expected > 0`);
for (const k of ['caller_without_gateway', 'gateway_without_caller', 'gateway_without_worker', 'worker_without_gateway', 'worker_only']) {
  check(j[k] === 0, `joins.${k} is ${j[k]}, expected 0`);
}
for (const role of ['caller', 'gateway', 'worker']) {
  check(summary.records.by_role[role] > 0, `no ${role} records`);
  check(summary.records.duplicates[role] === 0, `${summary.records.duplicates[role]} duplicate ${role} records`);
}
check(Object.keys(summary.records.rejected).length === 0, `rejected lines: ${JSON.stringify(summary.records.rejected)}`);
check(summary.groups.length > 0, 'no groups in the summary');

// --- Which host each role's records came from ------------------------------
// Read the fetched records themselves: results/<run>/records/<inventory host>/...
const seen = { caller: new Map(), gateway: new Map(), worker: new Map() };
const workerAddresses = new Set();
const recordsDir = join(runDir, 'records');
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ndjson')) {
      for (const line of readFileSync(p, 'utf8').split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line);
        const m = seen[r.role];
        if (!m) continue;
        m.set(r.host, (m.get(r.host) ?? 0) + 1);
        if (r.role === 'gateway' && r.worker) workerAddresses.add(r.worker);
      }
    }
  }
};
walk(recordsDir);
const hosts = Object.fromEntries(Object.entries(seen).map(([role, m]) => [role, [...m.keys()].sort()]));
const wantWorkers = expected.workers.map((w) => w.host).sort();
check(JSON.stringify(hosts.caller) === JSON.stringify([expected.caller.host]), `caller records name hosts ${JSON.stringify(hosts.caller)}, expected ["${expected.caller.host}"]`);
check(JSON.stringify(hosts.gateway) === JSON.stringify([expected.gateway.host]), `gateway records name hosts ${JSON.stringify(hosts.gateway)}, expected ["${expected.gateway.host}"]`);
check(JSON.stringify(hosts.worker) === JSON.stringify(wantWorkers), `worker records name hosts ${JSON.stringify(hosts.worker)}, expected ${JSON.stringify(wantWorkers)}`);
const all = [...hosts.caller, ...hosts.gateway, ...hosts.worker];
check(new Set(all).size === all.length, `a host name appears under two roles: ${JSON.stringify(hosts)}`);

// Addresses: the caller aimed at the gateway's address (run.json), the gateway
// called the workers' addresses (gateway records), and all of them differ.
const run = summary.run ?? {};
const gatewayUrls = Object.entries(run.addresses ?? {}).map(([, u]) => String(u));
const gatewayHosts = [...new Set(gatewayUrls.map((u) => new URL(u).hostname))];
check(JSON.stringify(gatewayHosts) === JSON.stringify([expected.gateway.address]), `the caller aimed at ${JSON.stringify(gatewayHosts)}, expected ["${expected.gateway.address}"]`);
const wantWorkerAddresses = expected.workers.map((w) => `${w.address}:${expected.workerPort}`).sort();
const gotWorkerAddresses = [...workerAddresses].sort();
check(JSON.stringify(gotWorkerAddresses) === JSON.stringify(wantWorkerAddresses), `the gateway called ${JSON.stringify(gotWorkerAddresses)}, expected ${JSON.stringify(wantWorkerAddresses)}`);
const addresses = [expected.caller.address, expected.gateway.address, ...expected.workers.map((w) => w.address)];
check(new Set(addresses).size === addresses.length, `addresses not distinct: ${addresses}`);

const us = (x) => (x === undefined ? null : Math.round(x));
const out = {
  ok: failures.length === 0,
  joins: { ids: j.ids, joined: j.joined, joined_warmup: j.joined_warmup, measured: j.measured, excluded: j.excluded },
  records: summary.records.by_role,
  hosts: Object.fromEntries(Object.entries(seen).map(([role, m]) => [role, Object.fromEntries(m)])),
  addresses: { caller: expected.caller.address, gateway: gatewayHosts, workers: gotWorkerAddresses },
  groups: summary.groups.map((g) => ({
    framework: g.framework,
    endpoint: g.endpoint,
    measured: g.measured,
    roundtrip_p50_us: us(g.stages.roundtrip?.p50),
    function_p50_us: us(g.stages.function?.p50),
    rpc_link_p50_us: us(g.stages.rpc_link?.p50),
  })),
  warnings: summary.warnings.length,
};
console.log(JSON.stringify(out));
if (failures.length > 0) {
  for (const f of failures) console.error(`check failed: ${f}`);
  process.exit(1);
}
