/**
 * `faasbench run`: the whole experiment. Starts a worker and the gateways
 * (or aims at remote ones), runs every cell with the caller in interleaved
 * rounds, and leaves records and run.json in one directory for the analysis.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCaller, type CallerResult } from '../caller/index.js';
import { parseDuration } from '../flags.js';
import { connectedToWorker, startRole, type RoleProcess } from './role-process.js';
import { DEFAULT_WORKER_FLAGS, isFleetExperiment, parseFront, planCells, planSteps, type Cell, type ExperimentConfig, type FleetStep } from './config.js';
import { runBackoff, runInterference } from './instance-experiments.js';
import { newMetadata, writeMetadata } from './metadata.js';
import type { CellResult, RunOptions, RunOutcome } from './run-options.js';
import { pinPrefix, pinSelf, planPinning } from './pinning.js';

export type { CellResult, RunOptions, RunOutcome } from './run-options.js';

type Records = (role: string) => string;

export async function runExperiment(options: RunOptions): Promise<RunOutcome> {
  const { config, out } = options;
  if (isFleetExperiment(config.experiment)) {
    await mkdir(out, { recursive: true });
    // Loaded only for these: they bring the scaler and its webhook.
    return (await import('./fleet-experiments.js')).runFleetExperiment(options);
  }
  const records: Records = (role) => join(out, `${role}.ndjson${options.compress ? '.gz' : ''}`);
  const say = options.onProgress ?? (() => {});
  await mkdir(out, { recursive: true });
  const cells = planCells(config);
  const steps = planSteps(config);
  const remote = options.gatewayHost !== undefined;
  const pinning = remote ? null : planPinning(config.pinning);
  // An instance experiment counts its calls (backoff) or faults (interference) instead of cells.
  const planned =
    config.experiment === 'backoff'
      ? config.backoff!.gaps.length * config.backoff!.calls
      : config.experiment === 'interference'
        ? config.interference!.faults.length
        : cells.length * steps.length;
  const meta = newMetadata(config, remote ? 'remote' : 'local', pinning, planned);
  await writeMetadata(out, meta);
  if (pinning) say(`pinning: ${pinning.note}`);

  const started: RoleProcess[] = [];
  const results: CellResult[] = [];
  try {
    const workers = remote ? [] : await startWorkers(config, Math.max(...steps.map((s) => s.workers)), records, pinning!, started, say);
    const timeoutMs = parseDuration(config.timeout, 'timeout');
    const lifecycle = config.experiment === 'backoff' ? runBackoff : config.experiment === 'interference' ? runInterference : null;
    for (const step of steps) {
      if (options.signal?.aborted) break;
      // A step's gateways run for its cells only: the next step starts its own with the next setting.
      const before = started.length;
      const urls = remote ? remoteGateways(config, options.gatewayHost!) : await startGateways(config, records, pinning!, workers.slice(0, step.workers), step, started, say);
      Object.assign(meta.addresses, urls);
      // Every process the run started, each step's gateways included.
      const listed = new Set(meta.processes.map((p) => p.pid));
      for (const p of started) if (!listed.has(p.proc.pid ?? -1)) meta.processes.push({ pid: p.proc.pid ?? -1, args: p.args.join(' ') });
      if (pinning) pinSelf(pinning.caller);
      await writeMetadata(out, meta);
      if (steps.length > 1) say(`${step.workers} worker(s), --balance ${step.balance}`);
      if (lifecycle) {
        // One step only (the config allows no lists with these experiments).
        const url = urls[config.frameworks[0]!]!.split(',')[0]!;
        meta.cells.done = await lifecycle({ config, url, out, timeoutMs, signal: options.signal, say });
      }
      for (const cell of lifecycle ? [] : cells) {
        if (options.signal?.aborted) break;
        const result = await runCaller({
          url: urls[cell.framework]!.split(',').map((u) => u + cell.path),
          startAt: meta.cells.done === 0 ? options.startAt : undefined,
          connections: cell.connections,
          durationMs: cell.durationMs ?? undefined,
          requests: cell.requests ?? undefined,
          warmupMs: cell.warmupMs,
          rate: cell.rate ?? undefined,
          acceptEncoding: acceptEncodingOf(cell),
          timeoutMs,
          label: cell.framework,
          out: records('caller'),
          signal: options.signal,
        });
        results.push({ cell, result });
        const i = meta.cells.done++;
        if (result.bottleneck.flagged) meta.callerBound.push(`${cell.framework} ${cell.path} c=${cell.connections} round ${cell.round}: ${result.bottleneck.reason}`);
        say(describeCell(i, meta.cells.planned, config.rounds, cell, result));
        if (result.aborted) break;
      }
      await Promise.all(started.splice(before).map((g) => g.stop()));
    }
  } catch (err) {
    meta.status = 'failed';
    throw err;
  } finally {
    await Promise.all(started.reverse().map((p) => p.stop()));
    const interrupted = options.signal?.aborted ?? false;
    if (meta.status !== 'failed') meta.status = interrupted ? 'interrupted' : 'complete';
    meta.finishedAt = new Date().toISOString();
    await writeMetadata(out, meta);
  }
  return { out, metadata: meta, cells: results, interrupted: meta.status === 'interrupted' };
}

/** Per front, its gateway's base URL on each host, separated by commas. */
function remoteGateways(config: ExperimentConfig, hosts: string): Record<string, string> {
  const bracketed = hosts.split(',').map((h) => h.trim()).map((h) => (h.includes(':') ? `[${h}]` : h));
  return Object.fromEntries(
    config.frameworks.map((f, i) => [f, bracketed.map((h) => `${f === 'tcp' ? 'tcp' : 'http'}://${h}:${config.ports.gateway + i}`).join(',')]),
  );
}

/** The workers of the run, on free ports, running for the whole run. */
async function startWorkers(
  config: ExperimentConfig,
  count: number,
  records: Records,
  pinning: ReturnType<typeof planPinning>,
  started: RoleProcess[],
  say: (line: string) => void,
): Promise<string[]> {
  const addresses: string[] = [];
  for (let k = 0; k < count; k++) {
    // The first keeps the name of a one-worker run.
    const log = records(k === 0 ? 'worker' : `worker-${k + 1}`);
    const worker = await startRole(['worker', '--port', '0', '--log', log, ...(config.worker ?? DEFAULT_WORKER_FLAGS)], 'worker listening', {
      prefix: pinPrefix(pinning.worker),
    });
    started.push(worker);
    addresses.push(worker.ready.address as string);
    say(`worker listening on ${addresses[k]}`);
  }
  return addresses;
}

/** One gateway per front, on free ports, given these workers and this policy; `direct` calls the workers themselves. */
async function startGateways(
  config: ExperimentConfig,
  records: Records,
  pinning: ReturnType<typeof planPinning>,
  workers: string[],
  step: FleetStep,
  started: RoleProcess[],
  say: (line: string) => void,
): Promise<Record<string, string>> {
  const urls: Record<string, string> = { worker: workers.join(',') };
  for (const front of config.frameworks) {
    const { framework, compression } = parseFront(front)!;
    if (framework === 'direct') {
      urls[front] = workers.map((w) => `tcp://${w}`).join(',');
      continue;
    }
    const gateway = await startRole(
      [
        'gateway', '--framework', framework, '--compression', compression, '--port', '0',
        '--worker', workers.join(','), '--balance', step.balance, '--log', records(`gateway-${front}`),
      ],
      'gateway listening',
      { prefix: pinPrefix(pinning.gateway) },
    );
    started.push(gateway);
    await connectedToWorker(gateway, workers.length);
    urls[front] = gateway.ready.url as string;
    say(`gateway ${front} listening on ${urls[front]}`);
  }
  return urls;
}

/** A compressing front's cells ask for its coding. */
function acceptEncodingOf(cell: Cell): string | undefined {
  const compression = parseFront(cell.framework)?.compression ?? 'none';
  return compression === 'none' ? undefined : compression;
}

function describeCell(i: number, total: number, rounds: number, cell: Cell, r: CallerResult): string {
  const ms = (us: number) => (us / 1000).toFixed(2);
  const errors = r.errorCount > 0 ? `  errors ${r.errorCount}` : '';
  const bound = r.bottleneck.flagged ? '  [caller-bound]' : '';
  return (
    `[${String(i + 1).padStart(String(total).length)}/${total}] round ${cell.round}/${rounds}  ${cell.framework.padEnd(7)} ` +
    `${cell.path}  c=${cell.connections}: ${r.requests} req, ${r.throughput.toFixed(0)} req/s, ` +
    `p50 ${ms(r.latencyUs.p50)} ms, p99 ${ms(r.latencyUs.p99)} ms${errors}${bound}`
  );
}
