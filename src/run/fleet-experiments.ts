/**
 * The fleet experiments of `faasbench run` (seed 003), each on this machine
 * with its own workers and gateway per run, the ordinary caller driving the
 * load, and the ordinary records; what was done to the fleet goes into
 * fleet.ndjson (fleet records, trace/records.ts) on the same clock:
 * - scaling: a load step (scaling.phases) under each policy, the scaler
 *   (scale/) starting and stopping workers behind the gateway's workers file;
 * - failover: one of the workers killed (SIGKILL) or frozen (SIGSTOP) mid-run,
 *   with and without --retry-lost;
 * - grey: one worker `slowdown` times slower (worker --experiment-slowdown),
 *   each balancing policy with and without outlier ejection.
 * The figures are the fleet page's (analysis/present/report/fleet.ts).
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runCaller, type CallerResult } from '../caller/index.js';
import { parseDuration } from '../flags.js';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { alertingBinaries, startAlerting, type AlertingStack } from '../scale/alerting.js';
import { policyParams } from '../scale/params.js';
import { writeWorkersFile } from '../scale/pool.js';
import { Scaler } from '../scale/scaler.js';
import { startWebhook, type Webhook } from '../scale/webhook.js';
import { createLogger } from '../log.js';
import { now } from '../trace/clock.js';
import { openRecordSink, type RecordSink } from '../trace/record-writer.js';
import { formatFleetRecord, type FleetRecord } from '../trace/records.js';
import { DEFAULT_WORKER_FLAGS, type ExperimentConfig } from './config.js';
import { LocalWorkers } from './fleet-workers.js';
import { newMetadata, writeMetadata, type RunMetadata } from './metadata.js';
import { connectedToWorker, startRole, type RoleProcess } from './role-process.js';
import type { RunOptions, RunOutcome } from './run-options.js';

/** The caller's label of each run, which the fleet page groups by. */
export const scalingLabel = (policy: string) => `scaling ${policy}`;
export const failoverLabel = (retries: boolean) => `failover retries ${retries ? 'on' : 'off'}`;
export const greyLabel = (balance: string, ejection: boolean) => `grey ${balance} ejection ${ejection ? 'on' : 'off'}`;

interface Context {
  config: ExperimentConfig;
  out: string;
  records: (name: string) => string;
  meta: RunMetadata;
  started: RoleProcess[];
  events: RecordSink;
  say: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs: number;
}

export async function runFleetExperiment(options: RunOptions): Promise<RunOutcome> {
  const { config, out } = options;
  const gz = options.compress ? '.gz' : '';
  const records = (name: string) => join(out, `${name}.ndjson${gz}`);
  const planned =
    config.experiment === 'scaling'
      ? config.scaling!.policies.length
      : config.experiment === 'failover'
        ? (config.failover!.retries ?? [false]).length
        : [config.balance].flat().length * (config.grey!.ejection ?? [false, true]).length;
  const meta = newMetadata(config, 'local', null, planned);
  await writeMetadata(out, meta);
  const c: Context = {
    config,
    out,
    records,
    meta,
    started: [],
    events: openRecordSink(records('fleet')),
    say: options.onProgress ?? (() => {}),
    signal: options.signal,
    timeoutMs: parseDuration(config.timeout, 'timeout'),
  };
  try {
    if (config.experiment === 'scaling') await runScaling(c);
    else if (config.experiment === 'failover') await runFailover(c);
    else await runGrey(c);
  } catch (err) {
    meta.status = 'failed';
    throw err;
  } finally {
    await Promise.all(c.started.reverse().map((p) => p.stop()));
    await c.events.close();
    const interrupted = options.signal?.aborted ?? false;
    if (meta.status !== 'failed') meta.status = interrupted ? 'interrupted' : 'complete';
    meta.finishedAt = new Date().toISOString();
    await writeMetadata(out, meta);
  }
  return { out, metadata: meta, cells: [], interrupted: meta.status === 'interrupted' };
}

function event(c: Context, r: Omit<FleetRecord, 't'>): void {
  c.events.write(formatFleetRecord({ ...r, t: now() }));
}

function listed(c: Context, p: RoleProcess): RoleProcess {
  c.started.push(p);
  c.meta.processes.push({ pid: p.proc.pid ?? -1, args: p.args.join(' ') });
  return p;
}

async function startWorker(c: Context, log: string, extra: string[] = []): Promise<RoleProcess & { address: string }> {
  const w = listed(c, await startRole(['worker', '--port', '0', '--log', log, ...(c.config.worker ?? DEFAULT_WORKER_FLAGS), ...extra], 'worker listening'));
  return Object.assign(w, { address: w.ready.address as string });
}

async function startGateway(c: Context, log: string, args: string[], connected: number, balance = [c.config.balance].flat()[0]!): Promise<RoleProcess & { url: string }> {
  const front = c.config.frameworks[0]!;
  const framework = (FRAMEWORKS as readonly string[]).includes(front) ? front : 'node';
  const g = listed(c, await startRole(['gateway', '--framework', framework, '--port', '0', '--balance', balance, '--log', log, ...args], 'gateway listening'));
  await connectedToWorker(g, connected, 120_000);
  return Object.assign(g, { url: g.ready.url as string });
}

/** A stopped process leaves the cleanup list. */
async function retire(c: Context, p: RoleProcess): Promise<void> {
  await p.stop();
  const i = c.started.indexOf(p);
  if (i !== -1) c.started.splice(i, 1);
}

function load(c: Context, url: string, connections: number, durationMs: number, label: string): Promise<CallerResult> {
  return runCaller({
    url: url + c.config.endpoints[0]!.path,
    connections,
    durationMs,
    warmupMs: 0,
    timeoutMs: c.timeoutMs,
    label,
    out: c.records('caller'),
    signal: c.signal,
  });
}

const summary = (r: CallerResult) =>
  `${r.requests} req, ${r.throughput.toFixed(0)} req/s, p50 ${(r.latencyUs.p50 / 1000).toFixed(1)} ms, p99 ${(r.latencyUs.p99 / 1000).toFixed(1)} ms, errors ${r.errorCount}`;

async function runScaling(c: Context): Promise<void> {
  const s = c.config.scaling!;
  const params = policyParams(s);
  for (const policy of s.policies) {
    if (c.signal?.aborted) break;
    c.say(`scaling: policy ${policy}`);
    const file = join(c.out, `workers-${policy}.txt`);
    const actuator = new LocalWorkers({
      file,
      workerArgs: c.config.worker ?? DEFAULT_WORKER_FLAGS,
      recordsOf: (k) => c.records(`worker-${policy}-${k}`),
      onStart: (p) => listed(c, p),
      say: c.say,
      drainTimeoutMs: c.timeoutMs * 2,
    });
    const initial = policy === 'fixed' ? params.fixed.workers : policy === 'concurrency' ? params.concurrency.min : params.alert.min;
    await writeWorkersFile(file, []);
    await actuator.scaleTo(initial);
    const gateway = await startGateway(c, c.records(`gateway-${policy}`), ['--workers-file', file, '--metrics-port', '0', ...(s.gateway ?? [])], initial);
    actuator.gateway = gateway;
    const metricsUrl = gateway.ready.metrics as string;
    const scaler = new Scaler({
      policy,
      ...params,
      actuator,
      metricsUrls: [metricsUrl],
      // Its moves are told by the actuator's lines; only its troubles are logged.
      logger: createLogger('scaler').child({}, { level: 'warn' }),
      onDecision: (d) =>
        event(c, { role: 'scaler', part: scalingLabel(policy), event: 'decision', worker: null, detail: d.reason, values: { current: d.current, desired: d.desired, ...d.values } }),
    });
    let webhook: Webhook | null = null;
    let alerting: AlertingStack | null = null;
    try {
      if (policy === 'alert') {
        const binaries = alertingBinaries();
        if ('missing' in binaries) throw new Error(binaries.missing);
        webhook = await startWebhook('127.0.0.1', 0, (alerts) => scaler.alerts(alerts));
        alerting = await startAlerting(binaries, [new URL(metricsUrl).host], webhook.url, params.alert);
        c.say(`  prometheus ${alerting.prometheusUrl}, alertmanager ${alerting.alertmanagerUrl}, webhook ${webhook.url}`);
      }
      scaler.start();
      for (const [i, phase] of s.phases.entries()) {
        if (c.signal?.aborted) break;
        event(c, { role: 'run', part: scalingLabel(policy), event: 'phase', worker: null, values: { phase: i, connections: phase.connections } });
        const r = await load(c, gateway.url, phase.connections, parseDuration(phase.duration, 'scaling.phases.duration'), scalingLabel(policy));
        c.say(`  phase ${i + 1}/${s.phases.length} c=${phase.connections}: ${summary(r)}; workers now ${actuator.ready}`);
      }
      event(c, { role: 'run', part: scalingLabel(policy), event: 'end', worker: null });
    } finally {
      await scaler.stop();
      await alerting?.stop();
      await webhook?.close();
      await retire(c, gateway);
      await actuator.stopAll();
    }
    c.meta.cells.done++;
    await writeMetadata(c.out, c.meta);
  }
}

async function runFailover(c: Context): Promise<void> {
  const f = c.config.failover!;
  const count = [c.config.workers].flat()[0]!;
  const connections = [c.config.connections].flat()[0]!;
  const signal = f.signal ?? 'SIGKILL';
  for (const retries of f.retries ?? [false]) {
    if (c.signal?.aborted) break;
    const tag = `retries-${retries ? 'on' : 'off'}`;
    c.say(`failover: ${count} workers, ${signal} one of them after ${f.killAfter}, ${failoverLabel(retries)}`);
    const workers = [];
    for (let k = 1; k <= count; k++) workers.push(await startWorker(c, c.records(`worker-failover-${tag}-${k}`)));
    const gateway = await startGateway(
      c,
      c.records(`gateway-failover-${tag}`),
      ['--worker', workers.map((w) => w.address).join(','), ...(retries ? ['--retry-lost'] : []), ...(f.gateway ?? [])],
      count,
    );
    const victim = workers.at(-1)!;
    const running = load(c, gateway.url, connections, parseDuration(f.duration, 'failover.duration'), failoverLabel(retries));
    await delay(parseDuration(f.killAfter, 'failover.killAfter'), undefined, { signal: c.signal }).catch(() => {});
    if (!c.signal?.aborted) {
      event(c, { role: 'run', part: failoverLabel(retries), event: signal === 'SIGKILL' ? 'kill' : 'freeze', worker: victim.address });
      // When the process is gone, as this parent learns it: the kernel has closed its sockets by then.
      if (signal === 'SIGKILL') victim.proc.once('exit', () => event(c, { role: 'run', part: failoverLabel(retries), event: 'exited', worker: victim.address }));
      victim.proc.kill(signal);
    }
    const r = await running;
    c.say(`  ${summary(r)}`);
    await retire(c, gateway);
    if (signal === 'SIGSTOP') victim.proc.kill('SIGKILL');
    for (const w of workers) await retire(c, w);
    c.meta.cells.done++;
    await writeMetadata(c.out, c.meta);
  }
}

async function runGrey(c: Context): Promise<void> {
  const g = c.config.grey!;
  const count = [c.config.workers].flat()[0]!;
  const connections = [c.config.connections].flat()[0]!;
  const slowdown = g.slowdown ?? 10;
  const workers = [];
  for (let k = 1; k < count; k++) workers.push(await startWorker(c, c.records(`worker-grey-${k}`)));
  const slow = await startWorker(c, c.records(`worker-grey-${count}`), ['--experiment-slowdown', String(slowdown)]);
  workers.push(slow);
  for (const balance of [c.config.balance].flat()) {
    for (const ejection of g.ejection ?? [false, true]) event(c, { role: 'run', part: greyLabel(balance, ejection), event: 'slow', worker: slow.address, values: { slowdown } });
  }
  c.say(`grey: ${count} workers, ${slow.address} ${slowdown}× slower`);
  for (const balance of [c.config.balance].flat()) {
    for (const ejection of g.ejection ?? [false, true]) {
      if (c.signal?.aborted) return;
      const label = greyLabel(balance, ejection);
      const gateway = await startGateway(
        c,
        c.records(`gateway-grey-${balance}-${ejection ? 'ejection' : 'plain'}`),
        ['--worker', workers.map((w) => w.address).join(','), ...(ejection ? (g.gateway ?? ['--eject-after', '5']) : ['--eject-after', '0'])],
        count,
        balance,
      );
      const r = await load(c, gateway.url, connections, parseDuration(g.duration, 'grey.duration'), label);
      c.say(`  ${label}: ${summary(r)}`);
      await retire(c, gateway);
      c.meta.cells.done++;
      await writeMetadata(c.out, c.meta);
    }
  }
}
