#!/usr/bin/env node
// Cold start and idle memory of a containerised worker and gateway, beside the
// same roles as plain processes (a measurement, not a test; run it under `quiet`):
//
//   node scripts/containers/cold-start.mjs --image IMAGE [--rounds N] [--frameworks a,b]
//
// Container: from `podman run -d` (the container made and started, as the
// Kubernetes manifests run it: scripts/containers/pods.mjs) until the role
// first answers: the worker an `empty` call over RPC (hello with the secret,
// then the call), a gateway `GET /empty` with 200 (its worker a container
// already running). Process: the same node binary and code (the image's own,
// mounted read-only) spawned on this machine with the same flags, on loopback.
// Idle memory, 2 s after the first answer (as npm run bench's start-up part):
// the node process's RSS, and for a container its memory cgroup's usage less
// inactive page cache (what `docker stats` shows).
// Rounds interleave container and process; prints medians (min-max) per role.
// Needs root, podman, and a built checkout (dist/: npm run build).
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { find, loadManifests, runArgs, serviceNames } from './pods.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// podman's settings for these scripts (runc; ulimits a sandbox allows), as engine.sh sets them.
process.env.CONTAINERS_CONF ??= join(here, 'containers.conf');
const opts = { rounds: 5, frameworks: 'node,fastify,express,koa,hono' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-h' || a === '--help') {
    console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  } else if (['--image', '--rounds', '--frameworks'].includes(a) && argv[i + 1]) opts[a.slice(2)] = argv[++i];
  else {
    console.error(`cold-start: bad argument '${a}' (see --help)`);
    process.exit(2);
  }
}
opts.rounds = Number(opts.rounds);
if (!opts.image || !Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 50) {
  console.error('cold-start: --image IMAGE is required, --rounds 1 to 50 (see --help)');
  process.exit(2);
}
const { rawRpc } = await import(join(repo, 'dist', 'src', 'testing', 'rpc-client.js')).catch(() => {
  console.error('cold-start: no dist/src/testing/rpc-client.js: run npm run build first');
  process.exit(2);
});

const IDLE_MS = 2000;
const tag = randomBytes(2).toString('hex');
const prefix = `fbcs-${tag}`;
const subnet = '10.214.0';
const secret = randomBytes(32).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'faasbench-cold-start-'));
const made = { containers: new Set(), network: null, volume: null, secret: null, mounted: false };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => console.error(`[cold-start ${new Date().toISOString().slice(11, 19)}] ${line}`);

function podman(args) {
  return new Promise((resolve, reject) =>
    execFile('podman', args, { timeout: 120_000 }, (err, out, errOut) => (err ? reject(new Error(`podman ${args[0]}: ${errOut || err.message}`)) : resolve(out.trim()))),
  );
}

/** Resolves with ms from t0 once answer() first resolves true; tries every 5 ms, at most 60 s. */
async function firstAnswer(t0, answer) {
  while (performance.now() - t0 < 60_000) {
    if (await answer().catch(() => false)) return performance.now() - t0;
    await sleep(5);
  }
  throw new Error('no answer within 60 s');
}
const within = (ms, promise) => Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error('timed out')))]);
const rpcAnswers = (address) => async () => {
  // A worker that has not sent its welcome yet would leave rawRpc waiting: bounded.
  const rpc = await within(5000, rawRpc(address, secret));
  try {
    const [reply] = await rpc.burst([{ fn: 'empty' }], 5000);
    return reply.err === undefined;
  } finally {
    rpc.close();
  }
};
const httpAnswers = (url) => () =>
  new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.end();
  });

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}
/** The memory cgroup (v1 or v2) of a pid: usage less inactive file pages, MiB. */
function cgroupMiB(pid) {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const base = v1 ? `/sys/fs/cgroup/memory${v1.split(':')[2]}` : `/sys/fs/cgroup${lines.find((l) => l.startsWith('0::')).slice(3)}`;
  const usage = Number(readFileSync(join(base, v1 ? 'memory.usage_in_bytes' : 'memory.current'), 'utf8'));
  const stat = Object.fromEntries(readFileSync(join(base, 'memory.stat'), 'utf8').trim().split('\n').map((l) => l.split(' ')));
  return (usage - Number(stat[v1 ? 'total_inactive_file' : 'inactive_file'] ?? 0)) / 1024 ** 2;
}

const docs = loadManifests(join(repo, 'docker', 'kubernetes'));
const configMaps = { 'faasbench-run': { ...find(docs, 'ConfigMap', 'faasbench-run').data } };
const workerDep = find(docs, 'Deployment', 'faasbench-worker');
const gatewayDep = find(docs, 'Deployment', 'faasbench-gateways');
const ports = Object.fromEntries(gatewayDep.spec.template.spec.containers.map((c) => [c.name, Number(c.env.find((e) => e.name === 'PORT').value)]));

/** Starts container c of a Deployment's pod; returns when podman run did, with the time it was called. */
async function container(c, name, ip, deployment) {
  const pod = deployment.spec.template;
  const ctx = { name, hostname: name, ip, image: opts.image, network: made.network, aliases: serviceNames(docs, pod.metadata.labels), configMaps, claims: { 'faasbench-records': made.volume }, secrets: { 'faasbench/secret': made.secret }, filesDir: dir };
  const { args } = runArgs(pod.spec, c, ctx);
  made.containers.add(name);
  const t0 = performance.now();
  await podman(['run', '-d', ...args]);
  return t0;
}
async function measureContainer(name, ip, deployment, c, answer) {
  const t0 = await container(c, name, ip, deployment);
  const ms = await firstAnswer(t0, answer);
  await sleep(IDLE_MS);
  const pid = Number(await podman(['inspect', '--format', '{{.State.Pid}}', name]));
  return { ms, rss: rssMiB(pid), cgroup: cgroupMiB(pid), stop: async () => { await podman(['rm', '-f', '-t', '10', name]); made.containers.delete(name); } };
}
async function measureProcess(root, args, answer) {
  const t0 = performance.now();
  const proc = spawn(join(root, 'usr/local/bin/node'), [join(root, 'opt/faasbench/dist/src/cli.js'), ...args], { stdio: 'ignore', env: { ...process.env, NODE_ENV: 'production', FAASBENCH_SECRET: secret } });
  try {
    const ms = await firstAnswer(t0, answer);
    await sleep(IDLE_MS);
    return { ms, rss: rssMiB(proc.pid) };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
  }
}

async function cleanup() {
  const quiet = (args) => podman(args).catch(() => {});
  if (made.containers.size > 0) await quiet(['rm', '-f', '-t', '5', ...made.containers]);
  if (made.volume) await quiet(['volume', 'rm', '-f', made.volume]);
  if (made.network) await quiet(['network', 'rm', '-f', made.network]);
  if (made.secret) await quiet(['secret', 'rm', made.secret]);
  if (made.mounted) await quiet(['image', 'unmount', opts.image]);
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

const rows = {};
const add = (key, r) => (rows[key] ??= []).push(r);
try {
  made.network = `${prefix}-net`;
  await podman(['network', 'create', '--internal', '--subnet', `${subnet}.0/24`, made.network]);
  made.volume = `${prefix}-records`;
  await podman(['volume', 'create', made.volume]);
  made.secret = `${prefix}-secret`;
  writeFileSync(join(dir, 'secret'), secret, { mode: 0o600 });
  await podman(['secret', 'create', made.secret, join(dir, 'secret')]);
  rmSync(join(dir, 'secret'));
  const root = await podman(['image', 'mount', opts.image]);
  made.mounted = true;
  const records = join(dir, 'records');
  const frameworks = opts.frameworks.split(',');
  for (const f of frameworks) if (!ports[f]) throw new Error(`no gateway container ${f} in gateways.yaml`);

  for (let round = 1; round <= opts.rounds; round++) {
    // The worker: a container, then a process.
    const w = await measureContainer(`${prefix}-w${round}`, `${subnet}.10`, workerDep, workerDep.spec.template.spec.containers[0], rpcAnswers(`${subnet}.10:7070`));
    await w.stop();
    add('worker container', w);
    add('worker process', await measureProcess(root, ['worker', '--host', '127.0.0.1', '--port', '17070', '--isolation', 'inline', '--log', join(records, `w${round}.ndjson`)], rpcAnswers('127.0.0.1:17070')));

    // Each gateway, against a worker of its kind started beforehand.
    const worker = await container(workerDep.spec.template.spec.containers[0], `${prefix}-wg${round}`, `${subnet}.11`, workerDep);
    await firstAnswer(worker, rpcAnswers(`${subnet}.11:7070`));
    const hostWorker = spawn(join(root, 'usr/local/bin/node'), [join(root, 'opt/faasbench/dist/src/cli.js'), 'worker', '--host', '127.0.0.1', '--port', '17071', '--isolation', 'inline'], { stdio: 'ignore', env: { ...process.env, FAASBENCH_SECRET: secret } });
    try {
      await firstAnswer(performance.now(), rpcAnswers('127.0.0.1:17071'));
      for (const f of frameworks) {
        const spec = gatewayDep.spec.template.spec.containers.find((c) => c.name === f);
        const g = await measureContainer(`${prefix}-g${round}-${f}`, `${subnet}.20`, gatewayDep, spec, httpAnswers(`http://${subnet}.20:${ports[f]}/empty`));
        await g.stop();
        add(`gateway ${f} container`, g);
        const port = 18080 + ports[f] - 8080;
        add(`gateway ${f} process`, await measureProcess(root, ['gateway', '--framework', f, '--host', '127.0.0.1', '--port', String(port), '--worker', '127.0.0.1:17071', '--balance', 'round-robin', '--log', join(records, `g${round}-${f}.ndjson`)], httpAnswers(`http://127.0.0.1:${port}/empty`)));
      }
    } finally {
      hostWorker.kill('SIGTERM');
      await podman(['rm', '-f', '-t', '10', `${prefix}-wg${round}`]);
      made.containers.delete(`${prefix}-wg${round}`);
    }
    say(`round ${round}/${opts.rounds} done`);
  }
} finally {
  await cleanup();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs, digits) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;
console.log(`${opts.rounds} rounds; medians (min-max)`);
console.log('role                       first answer ms      RSS MiB             container memory MiB');
for (const [key, rs] of Object.entries(rows)) {
  const cg = rs[0].cgroup === undefined ? '' : fmt(rs.map((r) => r.cgroup), 1);
  console.log(`${key.padEnd(26)} ${fmt(rs.map((r) => r.ms), 0).padEnd(20)} ${fmt(rs.map((r) => r.rss), 1).padEnd(19)} ${cg}`);
}
