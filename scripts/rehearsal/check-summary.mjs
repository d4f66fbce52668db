#!/usr/bin/env node
// Checks what the rehearsal's deployment brought back: the analysis joined
// caller, gateway and worker records (nothing left unjoined), each role's
// records came from its own hosts (hostname and address), and the analysis
// merged every caller and saw every gateway and every worker serve.
//
//   node check-summary.mjs RESULTS_RUN_DIR EXPECTED.json [RECORDS_DIR]
//
// RECORDS_DIR: where the record files are (default RESULTS_RUN_DIR/records; the
// container test's are on the records volume, beside the report).
// EXPECTED: {"callers": [{"host": H, "address": A}, ...], "gateways": [...], "workers": [...], "workerPort": P}
// Prints one JSON summary line on stdout; exits 1 listing every failed check.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const [runDir, expectedFile, recordsArg] = process.argv.slice(2);
if (!runDir || !expectedFile) {
  console.error('usage: check-summary.mjs RESULTS_RUN_DIR EXPECTED.json [RECORDS_DIR]');
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
const recordsDir = recordsArg ?? join(runDir, 'records');
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.ndjson(\.gz)?$/.test(e.name)) {
      // `faasbench run` gzips its records by default.
      const raw = readFileSync(p);
      for (const line of (e.name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n')) {
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
const want = Object.fromEntries(['caller', 'gateway', 'worker'].map((role) => [role, expected[`${role}s`].map((h) => h.host).sort()]));
for (const role of ['caller', 'gateway', 'worker']) {
  check(JSON.stringify(hosts[role]) === JSON.stringify(want[role]), `${role} records name hosts ${JSON.stringify(hosts[role])}, expected ${JSON.stringify(want[role])}`);
}
const all = [...hosts.caller, ...hosts.gateway, ...hosts.worker];
check(new Set(all).size === all.length, `a host name appears under two roles: ${JSON.stringify(hosts)}`);

// Addresses: every caller aimed at every gateway's address (its run.json), the
// gateways called the workers' addresses (gateway records), and all of them differ.
const wantGateways = expected.gateways.map((g) => g.address).sort();
check(summary.runs.length === expected.callers.length, `${summary.runs.length} run.json files, expected one per caller`);
let gatewayHosts = [];
for (const r of summary.runs) {
  const urls = Object.values(r.meta?.addresses ?? {}).flatMap((u) => String(u).split(',')).filter((u) => u.startsWith('http://'));
  gatewayHosts = [...new Set(urls.map((u) => new URL(u).hostname))].sort();
  check(JSON.stringify(gatewayHosts) === JSON.stringify(wantGateways), `${r.path}: the caller aimed at ${JSON.stringify(gatewayHosts)}, expected ${JSON.stringify(wantGateways)}`);
}
const wantWorkerAddresses = expected.workers.map((w) => `${w.address}:${expected.workerPort}`).sort();
const gotWorkerAddresses = [...workerAddresses].sort();
check(JSON.stringify(gotWorkerAddresses) === JSON.stringify(wantWorkerAddresses), `the gateway called ${JSON.stringify(gotWorkerAddresses)}, expected ${JSON.stringify(wantWorkerAddresses)}`);
const addresses = [...expected.callers, ...expected.gateways, ...expected.workers].map((h) => h.address);
check(new Set(addresses).size === addresses.length, `addresses not distinct: ${addresses}`);

// --- The merge: every caller, gateway and worker in the analysis' scale figures ---
const scale = summary.scale;
const names = (rows, key) => [...new Set(rows.map((r) => r[key]))].sort();
const merged = names(scale.callers, 'host');
// One caller: nothing to merge, and scale.callers stays empty.
if (want.caller.length > 1) check(JSON.stringify(merged) === JSON.stringify(want.caller), `the analysis merged callers ${JSON.stringify(merged)}, expected ${JSON.stringify(want.caller)}`);
check(JSON.stringify(names(scale.gateways, 'host')) === JSON.stringify(want.gateway), `gateways that served: ${JSON.stringify(names(scale.gateways, 'host'))}, expected ${JSON.stringify(want.gateway)}`);
check(JSON.stringify(names(scale.workers, 'address')) === JSON.stringify(wantWorkerAddresses), `workers that served: ${JSON.stringify(names(scale.workers, 'address'))}, expected ${JSON.stringify(wantWorkerAddresses)}`);
const lags = scale.callers.map((c) => c.start_lag_ms).filter((x) => x !== null);
// Every cell has its requests from every caller, through every gateway.
for (const g of summary.groups) {
  const callersIn = scale.callers.filter((c) => c.framework === g.framework && c.endpoint === g.endpoint);
  if (want.caller.length > 1) check(callersIn.length === want.caller.length, `${g.framework} ${g.endpoint}: ${callersIn.length} callers in the figures`);
  const measured = callersIn.reduce((n, c) => n + c.measured, 0);
  if (want.caller.length > 1) check(measured === g.measured, `${g.framework} ${g.endpoint}: callers' requests ${measured}, group ${g.measured}`);
}

const us = (x) => (x === undefined ? null : Math.round(x));
const out = {
  ok: failures.length === 0,
  joins: { ids: j.ids, joined: j.joined, joined_warmup: j.joined_warmup, measured: j.measured, excluded: j.excluded },
  records: summary.records.by_role,
  hosts: Object.fromEntries(Object.entries(seen).map(([role, m]) => [role, Object.fromEntries(m)])),
  addresses: { callers: expected.callers.map((c) => c.address), gateways: gatewayHosts, workers: gotWorkerAddresses },
  merged_callers: merged,
  start_lag_ms_max: lags.length ? Math.max(...lags) : null,
  // Per cell, the latest caller's lag: the first cell of the run is the one --start-at lines up.
  start_lag_ms: Object.fromEntries(summary.groups.map((g) => {
    const inCell = scale.callers.filter((c) => c.framework === g.framework && c.endpoint === g.endpoint && c.start_lag_ms !== null);
    return [`${g.framework} ${g.endpoint}`, inCell.length ? Math.round(Math.max(...inCell.map((c) => c.start_lag_ms))) : null];
  })),
  gateway_shares: scale.gateways.map((g) => `${g.framework} ${g.endpoint} ${g.host} ${g.share.toFixed(2)}`),
  worker_shares: scale.workers.map((w) => `${w.framework} ${w.endpoint} ${w.address} ${w.share.toFixed(2)}`),
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
