import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { withExamples, type Example } from '../command-line/examples.js';
import { RunFailure, UsageError } from '../usage-error.js';
import { TargetUnreachableError } from '../caller/index.js';
import { ConfigError } from '../config-file.js';
import { DEFAULT_CONFIG, isFleetExperiment, loadConfig, planCells, planSteps, QUICK_CONFIG, type ExperimentConfig } from './config.js';
import { describeOutput } from './estimate.js';
import { parseStartAt } from '../caller/units.js';
import { KERNEL_STAMPS_OPTION } from '../kernel/flag.js';
import { runExperiment } from './run-experiment.js';
import { analyzeRun } from './analyze-run.js';

interface RunArgs {
  config?: string;
  quick: boolean;
  out?: string;
  'gateway-host'?: string;
  'start-at'?: string;
  analyze: boolean;
  compress: boolean;
  'kernel-stamps': boolean;
  csv: boolean;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d\d\dZ$/, 'Z');
}

const EXAMPLES: Example[] = [
  ['the default experiment on this machine, then its report', '$0 run'],
  ['a short run of the same shape', '$0 run --quick'],
  ['an experiment of your own (examples/ holds several)', '$0 run --config examples/backoff.yaml'],
  ['from a caller host, against gateways already running on another', '$0 run --config exp.yaml --gateway-host 10.0.0.2 --out results/vm'],
];

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run a whole experiment: worker, five gateways, every endpoint driven by the caller, then the report',
  builder: (y) =>
    withExamples(
      y
        .option('config', { type: 'string', describe: 'Experiment config, JSON or YAML (default: the embedded default, examples/experiment.json)' })
        .option('quick', { type: 'boolean', default: false, describe: 'A short run of the same shape (well under a minute)' })
        .option('out', { type: 'string', describe: 'Directory for records, run.json and the report', defaultDescription: 'results/<time>' })
        .option('gateway-host', {
          type: 'string',
          describe: 'Do not start servers: aim at gateways already running on HOST (framework i on ports.gateway + i); several hosts separated by commas share each cell\'s connections round-robin',
        })
        .option('start-at', {
          type: 'string',
          describe: 'Start the first cell at this wall-clock time (ISO 8601 with a zone, or seconds since the epoch): callers on several hosts given one time start together',
        })
        .check((a) => (a['start-at'] === undefined || parseStartAt(a['start-at']), true))
        .option('analyze', { type: 'boolean', default: true, describe: 'Analyse the records when done (--no-analyze to skip)' })
        .option('compress', { type: 'boolean', default: true, describe: 'Gzip the records (*.ndjson.gz) and requests.csv (--no-compress: plain NDJSON, about 6x the size)' })
        .option('csv', { type: 'boolean', default: false, describe: 'Also write requests.csv beside requests.parquet' })
        .option('kernel-stamps', {
          ...KERNEL_STAMPS_OPTION,
          describe: 'Kernel stamps on every role (bpftrace; root): the report splits the caller link and the RPC link into wire and socket waits',
        }),
      EXAMPLES,
    ),
  handler: async (a) => {
    let config: ExperimentConfig;
    try {
      config = a.config ? await loadConfig(a.config) : a.quick ? QUICK_CONFIG : DEFAULT_CONFIG;
      if (a.config && a.quick) throw new ConfigError('--quick and --config do not go together: shorten the config instead');
      if (a['gateway-host'] !== undefined && planSteps(config).length > 1) {
        throw new ConfigError('workers and balance lists start gateways with each setting: they need a local run, not --gateway-host');
      }
      if (a['gateway-host'] !== undefined && config.experiment === 'compose') {
        throw new ConfigError('experiment compose runs only locally (no --gateway-host): it starts a worker and a gateway per variant');
      }
      if (a['gateway-host'] !== undefined && isFleetExperiment(config.experiment)) {
        throw new ConfigError(`experiment ${config.experiment} starts and stops its own workers and gateways: it runs only locally (no --gateway-host)`);
      }
      if (a['gateway-host'] !== undefined && config.frameworks.includes('direct')) {
        throw new ConfigError('the front "direct" runs only locally (no --gateway-host): it calls the worker the run starts');
      }
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    const out = resolve(a.out ?? join('results', timestamp()));
    const controller = new AbortController();
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write(`\nstopping: flushing the current cell's records and stopping every process (Ctrl-C again to force)\n`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const say = (line: string) => process.stderr.write(`${line}\n`);
    say(`faasbench run: ${a.config ?? (a.quick ? 'quick default' : 'default')} experiment`);
    // Every step of a replica experiment runs the cells again.
    const cells = planSteps(config).flatMap(() => planCells(config));
    const gz = a.compress ? '.gz' : '';
    if (isFleetExperiment(config.experiment)) say(`writes to ${out}: run.json, caller.ndjson${gz}, gateway-*.ndjson${gz}, worker-*.ndjson${gz}, fleet.ndjson${gz}, then report/ and fleet.html`);
    else for (const line of describeOutput(out, cells, { compress: a.compress, remote: a['gateway-host'] !== undefined, analyze: a.analyze, csv: a.csv })) say(line);
    const t0 = Date.now();
    const outcome = await runExperiment({
      config,
      out,
      gatewayHost: a['gateway-host'],
      startAt: a['start-at'] === undefined ? undefined : parseStartAt(a['start-at']),
      compress: a.compress,
      kernelStamps: a['kernel-stamps'],
      signal: controller.signal,
      onProgress: say,
    }).catch((err: unknown) => {
      // A gateway that refuses every connection (--gateway-host pointing at nothing): one line, exit 1.
      throw err instanceof TargetUnreachableError ? new RunFailure(err.message) : err;
    });
    say(`${outcome.interrupted ? 'interrupted' : 'done'} after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${outcome.metadata.cells.done}/${outcome.metadata.cells.planned} cells`);
    if (outcome.metadata.callerBound.length > 0) {
      say(`warning: the caller was itself the bottleneck in ${outcome.metadata.callerBound.length} cells (see run.json)`);
    }
    const missed = outcome.metadata.callerChecks.filter((c) => c.arrivals !== null && c.arrivals.verdict !== 'ok');
    if (missed.length > 0) say(`warning: the arrivals were not as planned in ${missed.length} cells (see run.json's callerChecks)`);
    if (!a.analyze || outcome.interrupted) {
      say(`records are complete up to the stop; analyse them with: faasbench analyze ${out}`);
      process.exitCode = outcome.interrupted ? 130 : 0;
      return;
    }
    await analyzeRun(out, say, { compress: a.compress, csv: a.csv });
  },
};
