import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CommandModule } from 'yargs';
import { LOCAL_HOST, WORKER_PORT } from '../contract/addresses.js';
import { UsageError } from '../usage-error.js';
import { integerOption, LISTEN_PORT, MAX_TIMER_MS, parseDurationFlag, TIMER_MS } from '../flags.js';
import { serveRole } from '../role.js';
import { withExamples, type Example } from '../command-line/examples.js';
import { metricsOptions, type MetricsArgs } from '../metrics/flags.js';
import { DEFAULT_MAX_INSTANCES, startWorker } from './worker.js';

interface WorkerArgs extends MetricsArgs {
  host: string;
  port: number;
  log?: string;
  functions?: string;
  'timeout-ms': number;
  'function-memory-mb': number;
  isolation: 'thread' | 'process' | 'inline';
  'keep-warm': number;
  'max-instances': number;
  'min-instances': number;
  secret?: string;
  'allow-fault-functions': boolean;
  'hello-timeout-ms': number;
  'sample-interval-ms': number;
  'insecure-no-secret': boolean;
  'experiment-slowdown': number;
}

const EXAMPLES: Example[] = [
  ['the bundled functions on 127.0.0.1:7070, a record per call', '$0 worker --log worker.ndjson'],
  ['reachable from other hosts: gateways must present the secret', '$0 worker --host 0.0.0.0 --secret s3cret'],
  ['functions run on the worker itself (the floor: no instances)', '$0 worker --isolation inline'],
  ['your own functions, a module per function', '$0 worker --functions ./my-functions'],
];

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  aliases: ['rpc-worker'],
  describe: 'Run the functions: a TCP RPC server that the gateways call',
  builder: (y) => {
    const flags = y
      .option('host', { type: 'string', default: LOCAL_HOST, describe: 'Address to listen on' })
      .option('port', integerOption('port', LISTEN_PORT, 'TCP port to listen on (0: any free port)', WORKER_PORT))
      .option('log', { type: 'string', describe: 'Append one NDJSON record per call to this file (gzipped when it ends in .gz)' })
      .option(
        'sample-interval-ms',
        integerOption('sample-interval-ms', { min: 0, max: 3_600_000 }, 'With --log: write a saturation sample (event-loop use and delay, CPU, RSS, calls in flight) this often; 0: none', 1000),
      )
      .option('functions', { type: 'string', describe: 'Directory of function modules (default: the bundled functions)' })
      .option('timeout-ms', integerOption('timeout-ms', TIMER_MS, 'Time limit of one function call', 30_000))
      .option(
        'function-memory-mb',
        integerOption('function-memory-mb', { min: 16, max: 65_536 }, 'Heap limit of each instance (or, inline, of each pool thread)', 512),
      )
      .option('isolation', {
        choices: ['thread', 'process', 'inline'] as const,
        default: 'thread' as const,
        describe: 'Where a function runs: an instance of its own in a worker thread, in a child process, or inline on the worker (no instances: the floor)',
      })
      .option('keep-warm', {
        type: 'string',
        default: 600_000,
        defaultDescription: '10m',
        describe: 'An idle instance ends after this long without a call ("90s", "10m")',
        coerce: (raw: unknown): number => (typeof raw === 'number' ? raw : parseDurationFlag('keep-warm', String(raw), { min: 1, max: MAX_TIMER_MS })),
      })
      .option('max-instances', integerOption('max-instances', { min: 1, max: 1000 }, 'Instances per function at most; further calls wait (worker queue)', DEFAULT_MAX_INSTANCES))
      .option('min-instances', integerOption('min-instances', { min: 0, max: 1000 }, 'Instances per function started at start and kept warm', 0))
      .option('secret', {
        type: 'string',
        default: process.env.FAASBENCH_SECRET,
        defaultDescription: '$FAASBENCH_SECRET',
        describe: 'Shared secret a gateway must present',
      })
      .option('allow-fault-functions', {
        type: 'boolean',
        default: false,
        describe: 'Also serve the misbehaving test functions (fault: loop, alloc, throw, exit)',
      })
      .option('hello-timeout-ms', integerOption('hello-timeout-ms', TIMER_MS, 'Disconnect a client that has not said hello within this time', 5000))
      .option(
        'experiment-slowdown',
        integerOption('experiment-slowdown', { min: 1, max: 1000 }, 'Experiments only (a grey failure): every call takes N times its time, the worker waiting before it stamps the function\'s end', 1),
      )
      .option('insecure-no-secret', {
        type: 'boolean',
        default: false,
        describe: 'Listen beyond loopback without a secret: anyone who can reach the port may run the functions',
      });
    return withExamples(metricsOptions(flags), EXAMPLES);
  },
  handler: async (a) => {
    const secret = a.secret === '' ? undefined : a.secret;
    if (secret === undefined && !a['insecure-no-secret'] && !(await isLoopback(a.host))) {
      throw new UsageError(
        `refusing to listen on ${a.host} without a secret: anyone who can reach it could run the functions; ` +
          'set --secret or $FAASBENCH_SECRET (and the same on the gateways), or pass --insecure-no-secret',
      );
    }
    if (a['min-instances'] > a['max-instances']) {
      throw new UsageError(`--min-instances ${a['min-instances']} is more than --max-instances ${a['max-instances']}`);
    }
    await serveRole('worker', (logger) =>
      startWorker({
        host: a.host,
        port: a.port,
        log: a.log,
        functionsDir: a.functions,
        timeoutMs: a['timeout-ms'],
        poolMemoryMb: a['function-memory-mb'],
        isolation: a.isolation,
        keepWarmMs: a['keep-warm'],
        maxInstances: a['max-instances'],
        minInstances: a['min-instances'],
        secret,
        allowFaultFunctions: a['allow-fault-functions'],
        helloTimeoutMs: a['hello-timeout-ms'],
        experimentSlowdown: a['experiment-slowdown'],
        sampleIntervalMs: a['sample-interval-ms'],
        metricsPort: a['metrics-port'],
        metricsHost: a['metrics-host'],
        logger,
      }),
    );
  },
};

/** Every address `host` stands for is a loopback address. */
async function isLoopback(host: string): Promise<boolean> {
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    throw new UsageError(`cannot resolve --host ${host}: ${(err as Error).message}`);
  }
  return addresses.every((a) => /^(127\.|::ffff:127\.)/.test(a) || a === '::1');
}
