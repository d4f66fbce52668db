#!/usr/bin/env node
// The container test: the roles of docker/kubernetes/, run from the image with
// podman as the manifests describe them (scripts/containers/pods.mjs).
//
//   node scripts/containers/kube-test.mjs --image IMAGE [--manifests DIR] [--experiment FILE] [--keep]
//
// On a podman network of its own (internal: no route out), with a podman
// secret for the gateways' and workers' shared secret and a podman volume for
// the records claim:
//   1. the workers (the Deployment's replicas), each until its probe passes;
//   2. the gateway pods: in each, the five framework containers in turn, each
//      until its startup probe passes (listening and linked to every worker),
//      then their readiness probes;
//   3. the callers' indexed Job: every completion at once, from one start time,
//      with --experiment (default scripts/containers/experiment.json) as the
//      ConfigMap's experiment.json; each must exit 0;
//   4. gateways and workers stopped with their grace period: each must exit 0
//      (not killed) after flushing its records;
//   5. the analysis Job on the records volume; then scripts/rehearsal/check-summary.mjs:
//      every request joined, records of every role from its own hosts and
//      addresses, every caller merged, every gateway pod and worker serving;
//      every framework in the report; the secret in no container's log.
// Prints each container's time from `podman run` to its probe passing (not a
// benchmark: see scripts/containers/cold-start.mjs). Removes every container,
// the volume, the network and the secret on exit, failure or not, unless --keep.
// Needs root and podman (scripts/containers/run.sh checks and installs).
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { find, loadManifests, runArgs, serviceNames } from './pods.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// podman's settings for these scripts (runc; ulimits a sandbox allows), as engine.sh sets them.
process.env.CONTAINERS_CONF ??= join(here, 'containers.conf');
const usage = () => readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//')).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');

const opts = { manifests: join(repo, 'docker', 'kubernetes'), experiment: join(here, 'experiment.json'), keep: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-h' || a === '--help') {
    console.log(usage());
    process.exit(0);
  } else if (a === '--keep') opts.keep = true;
  else if (['--image', '--manifests', '--experiment'].includes(a) && argv[i + 1]) opts[a.slice(2)] = argv[++i];
  else {
    console.error(`kube-test: bad argument '${a}' (see --help)`);
    process.exit(2);
  }
}
if (!opts.image) {
  console.error('kube-test: --image IMAGE is required (see --help)');
  process.exit(2);
}

const say = (line) => console.error(`[kube-test ${new Date().toISOString().slice(11, 19)}] ${line}`);
const tag = randomBytes(2).toString('hex');
const prefix = `fbk-${tag}`;
const made = { containers: [], network: null, volume: null, secret: null };
const dir = mkdtempSync(join(tmpdir(), 'faasbench-kube-test-'));

function podman(args, { timeoutMs = 120_000, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    execFile('podman', args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !allowFail) reject(new Error(`podman ${args.slice(0, 3).join(' ')} …: ${(stderr || err.message).trim()}`));
      else resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout.trim(), err: stderr.trim() });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (opts.keep) {
    say(`kept: containers ${made.containers.join(' ')}, volume ${made.volume}, network ${made.network}, secret ${made.secret}, files ${dir}`);
    return;
  }
  // Synchronous, so that it also runs on a signal: newest first (a pod's first container holds its network).
  const run = (args) => spawnSync('podman', args, { stdio: 'ignore', timeout: 120_000 });
  if (made.containers.length > 0) run(['rm', '-f', '-v', '-t', '5', ...made.containers.slice().reverse()]);
  if (made.volume) run(['volume', 'rm', '-f', made.volume]);
  if (made.network) run(['network', 'rm', '-f', made.network]);
  if (made.secret) run(['secret', 'rm', made.secret]);
  rmSync(dir, { recursive: true, force: true });
  const left = spawnSync('podman', ['ps', '-a', '-q', '--filter', `name=^${prefix}-`], { encoding: 'utf8' }).stdout.trim();
  if (left) say(`WARNING: containers left: ${left.split('\n').join(' ')}`);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  say(`${sig}: cleaning up`);
  cleanup();
  process.exit(sig === 'SIGINT' ? 130 : 143);
});

/** Starts one container of a pod; returns its name, probes and the time it was started. */
async function start(pod, container, ctx) {
  const { args, probes } = runArgs(pod, container, { ...ctx, image: opts.image, filesDir: dir });
  const t0 = performance.now();
  made.containers.push(ctx.name);
  await podman(['run', '-d', ...args]);
  return { name: ctx.name, probes, t0 };
}

/** Runs the container's first probe (podman's health check) until it passes, as the kubelet's startup probe; then the others once. */
async function ready(c, { tries = 60, everyMs = 500 } = {}) {
  for (let i = 0; ; i++) {
    const r = await podman(['healthcheck', 'run', c.name], { allowFail: true, timeoutMs: 30_000 });
    if (r.code === 0) break;
    const state = (await podman(['inspect', '--format', '{{.State.Status}}', c.name])).out;
    if (state !== 'running' || i + 1 >= tries) {
      const logs = await podman(['logs', '--tail', '20', c.name], { allowFail: true });
      throw new Error(`${c.name} is ${state} and its ${c.probes[0]?.kind ?? 'health check'} did not pass after ${i + 1} tries:\n${logs.out}\n${logs.err}`);
    }
    await sleep(everyMs);
  }
  const ms = performance.now() - c.t0;
  for (const p of c.probes.slice(1)) {
    const r = await podman(['exec', c.name, ...p.command], { allowFail: true });
    if (r.code !== 0) throw new Error(`${c.name}: ${p.kind} (${p.command.join(' ')}) failed`);
  }
  return ms;
}

const address = async (name) => (await podman(['inspect', '--format', `{{(index .NetworkSettings.Networks "${made.network}").IPAddress}}`, name])).out;

async function main() {
  const t0 = Date.now();
  const docs = loadManifests(opts.manifests);
  const run = structuredClone(find(docs, 'ConfigMap', 'faasbench-run').data);
  const experiment = JSON.parse(readFileSync(opts.experiment, 'utf8'));
  run['experiment.json'] = JSON.stringify(experiment);
  const configMaps = { 'faasbench-run': run };

  made.network = `${prefix}-net`;
  await podman(['network', 'create', '--internal', made.network]);
  made.volume = `${prefix}-records`;
  await podman(['volume', 'create', made.volume]);
  const claims = Object.fromEntries(docs.filter((d) => d.kind === 'PersistentVolumeClaim').map((d) => [d.metadata.name, made.volume]));
  const secret = randomBytes(32).toString('hex');
  made.secret = `${prefix}-secret`;
  // From a file of ours (0600, removed at once): podman reads '-' from a pipe only, and node's stdin pipes are sockets.
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, secret, { mode: 0o600 });
  await podman(['secret', 'create', made.secret, secretFile]);
  rmSync(secretFile);
  const secrets = { 'faasbench/secret': made.secret };
  const base = { network: made.network, configMaps, claims, secrets };
  say(`tag ${tag}: network ${made.network}, volume ${made.volume}, secret ${made.secret}, image ${opts.image}`);

  const startups = [];
  // --- 1. Workers ---------------------------------------------------------------------
  const workerDeployment = find(docs, 'Deployment', 'faasbench-worker');
  const workerPod = workerDeployment.spec.template.spec;
  const workers = [];
  for (let i = 0; i < workerDeployment.spec.replicas; i++) {
    for (const container of workerPod.containers) {
      const hostname = `faasbench-worker-${i}`;
      const aliases = serviceNames(docs, workerDeployment.spec.template.metadata.labels);
      workers.push({ ...(await start(workerPod, container, { ...base, name: `${prefix}-worker-${i}`, hostname, aliases })), hostname });
    }
  }
  for (const w of workers) {
    const ms = await ready(w);
    w.address = await address(w.name);
    startups.push(`${w.hostname} ${Math.round(ms)} ms`);
  }
  say(`workers ready: ${workers.map((w) => `${w.hostname} ${w.address}`).join(', ')}`);

  // --- 2. Gateway pods, each framework's container in turn ----------------------------
  const gatewayDeployment = find(docs, 'Deployment', 'faasbench-gateways');
  const gatewayPod = gatewayDeployment.spec.template.spec;
  const gatewayNames = gatewayPod.containers.map((c) => c.name);
  const frameworks = experiment.frameworks.join(',');
  if (gatewayNames.join(',') !== frameworks) throw new Error(`the gateway pod's containers (${gatewayNames}) are not the experiment's frameworks in order (${frameworks})`);
  const gatewayContainers = [];
  const gateways = [];
  for (let r = 0; r < gatewayDeployment.spec.replicas; r++) {
    const hostname = `faasbench-gateways-${r}`;
    let first = null;
    for (const container of gatewayPod.containers) {
      const name = `${prefix}-gw${r}-${container.name}`;
      const network = first ? `container:${first}` : made.network;
      const aliases = serviceNames(docs, gatewayDeployment.spec.template.metadata.labels);
      const c = await start(gatewayPod, container, { ...base, name, hostname, network, aliases });
      first ??= name;
      const ms = await ready(c);
      startups.push(`${hostname}/${container.name} ${Math.round(ms)} ms`);
      gatewayContainers.push(c);
    }
    gateways.push({ hostname, address: await address(first) });
  }
  say(`gateway pods ready: ${gateways.map((g) => `${g.hostname} ${g.address}`).join(', ')}`);

  // --- 3. The callers' Job: every completion at once, from one start time --------------
  const callerJob = find(docs, 'Job', 'faasbench-callers');
  const { completions, parallelism, completionMode } = callerJob.spec;
  if (completionMode !== 'Indexed' || completions !== parallelism) throw new Error('the callers Job must be Indexed with parallelism = completions');
  const callerPod = callerJob.spec.template.spec;
  run.start_at = new Date(Date.now() + 10_000).toISOString();
  const callers = [];
  for (let i = 0; i < completions; i++) {
    const hostname = `${callerJob.metadata.name}-${i}`;
    const c = await start(callerPod, callerPod.containers[0], { ...base, name: `${prefix}-caller-${i}`, hostname, env: { JOB_COMPLETION_INDEX: String(i) } });
    callers.push({ ...c, hostname, address: await address(c.name) });
  }
  say(`callers started (${callers.map((c) => `${c.hostname} ${c.address}`).join(', ')}), first cell at ${run.start_at}`);
  for (const c of callers) {
    const r = await podman(['wait', c.name], { timeoutMs: 300_000 });
    if (r.out !== '0') {
      const logs = await podman(['logs', '--tail', '30', c.name], { allowFail: true });
      throw new Error(`${c.name} exited with ${r.out}:\n${logs.out}\n${logs.err}`);
    }
  }
  say('callers done');

  // --- 4. Stop gateways and workers: SIGTERM, then their grace period ------------------
  const services = [...gatewayContainers.slice().reverse(), ...workers];
  for (const s of services) await podman(['stop', s.name], { timeoutMs: 120_000 });
  const exits = await Promise.all(services.map(async (s) => [s.name, (await podman(['inspect', '--format', '{{.State.ExitCode}}', s.name])).out]));
  const unclean = exits.filter(([, code]) => code !== '0');
  if (unclean.length > 0) throw new Error(`not stopped cleanly by SIGTERM: ${unclean.map(([n, c]) => `${n} exit ${c}`).join(', ')}`);
  say(`${services.length} gateways and workers stopped on SIGTERM, all exit 0`);

  // --- 5. The analysis Job, and the checks ----------------------------------------------
  const analyzeJob = find(docs, 'Job', 'faasbench-analyze');
  const analyzePod = analyzeJob.spec.template.spec;
  const analysis = await start(analyzePod, analyzePod.containers[0], { ...base, name: `${prefix}-analyze`, hostname: 'faasbench-analyze' });
  const a = await podman(['wait', analysis.name], { timeoutMs: 300_000 });
  if (a.out !== '0') throw new Error(`the analysis exited with ${a.out}:\n${(await podman(['logs', '--tail', '30', analysis.name], { allowFail: true })).err}`);

  const runDir = join((await podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', made.volume])).out, run.run_id);
  const expected = { callers: callers.map(({ hostname: host, address }) => ({ host, address })), gateways: gateways.map(({ hostname: host, address }) => ({ host, address })), workers: workers.map(({ hostname: host, address }) => ({ host, address })), workerPort: experiment.ports.worker };
  writeFileSync(join(dir, 'expected.json'), JSON.stringify(expected));
  const check = spawnSync(process.execPath, [join(repo, 'scripts', 'rehearsal', 'check-summary.mjs'), runDir, join(dir, 'expected.json'), runDir], { encoding: 'utf8' });
  process.stderr.write(check.stderr);
  if (check.status !== 0) throw new Error(`check-summary failed: ${check.stdout}`);
  const summary = JSON.parse(readFileSync(join(runDir, 'report', 'summary.json'), 'utf8'));
  const inReport = [...new Set(summary.groups.map((g) => g.framework))].sort().join(',');
  if (inReport !== [...experiment.frameworks].sort().join(',')) throw new Error(`frameworks in the report: ${inReport}, expected ${experiment.frameworks}`);
  const checked = JSON.parse(check.stdout);
  say(`analysis: ${checked.joins.joined} requests joined (${checked.joins.measured} measured), nothing unjoined; ${summary.groups.length} cells; records ${JSON.stringify(checked.records)}`);

  // The secret: in no container's output. (podman 4.3's inspect shows an env secret's
  // value to root, podman issue #23788, masked since 5.3; a kubelet's pod spec holds only the reference.)
  for (const name of made.containers) {
    const logs = await podman(['logs', name], { allowFail: true });
    if (logs.out.includes(secret) || logs.err.includes(secret)) throw new Error(`the secret shows in ${name}'s log`);
  }
  say(`secret: from a podman secret, in no log of the ${made.containers.length} containers`);
  say(`start to probe passing: ${startups.join('; ')}`);
  say(`PASSED in ${Math.round((Date.now() - t0) / 1000)} s`);
}

main()
  .catch((err) => {
    say(`FAILED: ${err.message}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
