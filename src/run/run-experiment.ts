/**
 * `faasbench run`: the whole experiment. Starts a worker and the gateways
 * (or aims at remote ones), runs every cell with the caller in interleaved
 * rounds, and leaves records and run.json in one directory for the analysis.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCaller, type CallerResult } from '../caller/index.js';
import { parseDuration } from '../flags.js';
import type { Framework } from '../gateway/adapters/adapter.js';
import { connectedToWorker, startRole, type RoleProcess } from './role-process.js';
import { planCells, planSteps, type Cell, type ExperimentConfig, type FleetStep } from './config.js';
import { newMetadata, writeMetadata, type RunMetadata } from './metadata.js';
import { pinPrefix, pinSelf, planPinning } from './pinning.js';

export interface RunOptions {
  config: ExperimentConfig;
  /** Directory for records and run.json; created if missing. */
  out: string;
  /** Aim at gateways already running there (framework i on ports.gateway + i) instead of starting any; several hosts separated by commas. */
  gatewayHost?: string;
  /** Wall-clock start of the first cell (ms since the epoch), so that callers on several hosts start together. */
  startAt?: number;
  signal?: AbortSignal;
  /** One line per event worth telling a person (cell done, process started). */
  onProgress?: (line: string) => void;
}

export interface CellResult {
  cell: Cell;
  result: CallerResult;
}

export interface RunOutcome {
  out: string;
  metadata: RunMetadata;
  cells: CellResult[];
  interrupted: boolean;
}

export async function runExperiment(options: RunOptions): Promise<RunOutcome> {
  const { config, out } = options;
  const say = options.onProgress ?? (() => {});
  await mkdir(out, { recursive: true });
  const cells = planCells(config);
  const steps = planSteps(config);
  const remote = options.gatewayHost !== undefined;
  const pinning = remote ? null : planPinning(config.pinning);
  const meta = newMetadata(config, remote ? 'remote' : 'local', pinning, cells.length * steps.length);
  await writeMetadata(out, meta);
  if (pinning) say(`pinning: ${pinning.note}`);

  const started: RoleProcess[] = [];
  const results: CellResult[] = [];
  try {
    const workers = remote ? [] : await startWorkers(Math.max(...steps.map((s) => s.workers)), out, pinning!, started, say);
    const timeoutMs = parseDuration(config.timeout, 'timeout');
    for (const step of steps) {
      if (options.signal?.aborted) break;
      // A step's gateways run for its cells only: the next step starts its own with the next setting.
      const before = started.length;
      const urls = remote ? remoteGateways(config, options.gatewayHost!) : await startGateways(config, out, pinning!, workers.slice(0, step.workers), step, started, say);
      Object.assign(meta.addresses, urls);
      // Every process the run started, each step's gateways included.
      const listed = new Set(meta.processes.map((p) => p.pid));
      for (const p of started) if (!listed.has(p.proc.pid ?? -1)) meta.processes.push({ pid: p.proc.pid ?? -1, args: p.args.join(' ') });
      if (pinning) pinSelf(pinning.caller);
      await writeMetadata(out, meta);
      if (steps.length > 1) say(`${step.workers} worker(s), --balance ${step.balance}`);
      for (const cell of cells) {
        if (options.signal?.aborted) break;
        const result = await runCaller({
          url: urls[cell.framework]!.split(',').map((u) => u + cell.path),
          startAt: meta.cells.done === 0 ? options.startAt : undefined,
          connections: cell.connections,
          durationMs: cell.durationMs ?? undefined,
          requests: cell.requests ?? undefined,
          warmupMs: cell.warmupMs,
          rate: cell.rate ?? undefined,
          timeoutMs,
          label: cell.framework,
          out: join(out, 'caller.ndjson'),
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

/** Per framework, its gateway's base URL on each host, separated by commas. */
function remoteGateways(config: ExperimentConfig, hosts: string): Record<string, string> {
  const bracketed = hosts.split(',').map((h) => h.trim()).map((h) => (h.includes(':') ? `[${h}]` : h));
  return Object.fromEntries(config.frameworks.map((f, i) => [f, bracketed.map((h) => `http://${h}:${config.ports.gateway + i}`).join(',')]));
}

/** The workers of the run, on free ports, running for the whole run. */
async function startWorkers(
  count: number,
  out: string,
  pinning: ReturnType<typeof planPinning>,
  started: RoleProcess[],
  say: (line: string) => void,
): Promise<string[]> {
  const addresses: string[] = [];
  for (let k = 0; k < count; k++) {
    // The first keeps the name of a one-worker run.
    const log = join(out, k === 0 ? 'worker.ndjson' : `worker-${k + 1}.ndjson`);
    const worker = await startRole(['worker', '--port', '0', '--log', log], 'worker listening', { prefix: pinPrefix(pinning.worker) });
    started.push(worker);
    addresses.push(worker.ready.address as string);
    say(`worker listening on ${addresses[k]}`);
  }
  return addresses;
}

/** One gateway per framework, on free ports, given these workers and this policy. */
async function startGateways(
  config: ExperimentConfig,
  out: string,
  pinning: ReturnType<typeof planPinning>,
  workers: string[],
  step: FleetStep,
  started: RoleProcess[],
  say: (line: string) => void,
): Promise<Record<string, string>> {
  const urls: Record<string, string> = { worker: workers.join(',') };
  for (const framework of config.frameworks) {
    const gateway = await startRole(
      ['gateway', '--framework', framework, '--port', '0', '--worker', workers.join(','), '--balance', step.balance, '--log', join(out, `gateway-${framework}.ndjson`)],
      'gateway listening',
      { prefix: pinPrefix(pinning.gateway) },
    );
    started.push(gateway);
    await connectedToWorker(gateway, workers.length);
    urls[framework] = gateway.ready.url as string;
    say(`gateway ${framework} listening on ${urls[framework]}`);
  }
  return urls as Record<Framework | 'worker', string>;
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
