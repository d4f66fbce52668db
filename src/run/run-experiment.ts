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
import { DEFAULT_WORKER_FLAGS, parseFront, planCells, type Cell, type ExperimentConfig } from './config.js';
import { runBackoff, runInterference } from './lifecycle.js';
import { newMetadata, writeMetadata, type RunMetadata } from './metadata.js';
import { pinPrefix, pinSelf, planPinning } from './pinning.js';

export interface RunOptions {
  config: ExperimentConfig;
  /** Directory for records and run.json; created if missing. */
  out: string;
  /** Gzip every record file (*.ndjson.gz). */
  compress?: boolean;
  /** Aim at gateways already running there (framework i on ports.gateway + i) instead of starting any. */
  gatewayHost?: string;
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
  const records = (role: string) => join(out, `${role}.ndjson${options.compress ? '.gz' : ''}`);
  const say = options.onProgress ?? (() => {});
  await mkdir(out, { recursive: true });
  const cells = planCells(config);
  const remote = options.gatewayHost !== undefined;
  const pinning = remote ? null : planPinning(config.pinning);
  // An instance experiment counts its calls (backoff) or faults (interference) instead of cells.
  const planned =
    config.experiment === 'backoff' ? config.backoff!.gaps.length * config.backoff!.calls : config.experiment === 'interference' ? config.interference!.faults.length : cells.length;
  const meta = newMetadata(config, remote ? 'remote' : 'local', pinning, planned);
  await writeMetadata(out, meta);
  if (pinning) say(`pinning: ${pinning.note}`);

  const started: RoleProcess[] = [];
  const results: CellResult[] = [];
  try {
    const urls = remote ? remoteGateways(config, options.gatewayHost!) : await startLocal(config, records, pinning!, started, say);
    Object.assign(meta.addresses, urls);
    meta.processes = started.map((p) => ({ pid: p.proc.pid ?? -1, args: p.args.join(' ') }));
    if (pinning) pinSelf(pinning.caller);
    await writeMetadata(out, meta);

    const timeoutMs = parseDuration(config.timeout, 'timeout');
    const lifecycle = config.experiment === 'backoff' ? runBackoff : config.experiment === 'interference' ? runInterference : null;
    if (lifecycle) {
      const url = urls[config.frameworks[0]!]!;
      meta.cells.done = await lifecycle({ config, url, out, timeoutMs, signal: options.signal, say });
    }
    for (const [i, cell] of (lifecycle ? [] : cells).entries()) {
      if (options.signal?.aborted) break;
      const result = await runCaller({
        url: urls[cell.framework] + cell.path,
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
      meta.cells.done = i + 1;
      if (result.bottleneck.flagged) meta.callerBound.push(`${cell.framework} ${cell.path} c=${cell.connections} round ${cell.round}: ${result.bottleneck.reason}`);
      say(describeCell(i, cells.length, config.rounds, cell, result));
      if (result.aborted) break;
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

function remoteGateways(config: ExperimentConfig, host: string): Record<string, string> {
  const h = host.includes(':') ? `[${host}]` : host;
  return Object.fromEntries(config.frameworks.map((f, i) => [f, `${f === 'tcp' ? 'tcp' : 'http'}://${h}:${config.ports.gateway + i}`]));
}

/** One worker and one gateway per framework, all running for the whole run, on free ports. */
async function startLocal(
  config: ExperimentConfig,
  records: (role: string) => string,
  pinning: ReturnType<typeof planPinning>,
  started: RoleProcess[],
  say: (line: string) => void,
): Promise<Record<string, string>> {
  const worker = await startRole(['worker', '--port', '0', '--log', records('worker'), ...(config.worker ?? DEFAULT_WORKER_FLAGS)], 'worker listening', {
    prefix: pinPrefix(pinning.worker),
  });
  started.push(worker);
  const workerAddress = worker.ready.address as string;
  say(`worker listening on ${workerAddress}`);
  const urls: Record<string, string> = { worker: workerAddress };
  for (const front of config.frameworks) {
    const { framework, compression } = parseFront(front)!;
    if (framework === 'direct') {
      urls[front] = `tcp://${workerAddress}`;
      continue;
    }
    const gateway = await startRole(
      ['gateway', '--framework', framework, '--compression', compression, '--port', '0', '--worker', workerAddress, '--log', records(`gateway-${front}`)],
      'gateway listening',
      { prefix: pinPrefix(pinning.gateway) },
    );
    started.push(gateway);
    await connectedToWorker(gateway);
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
