import type { CommandModule } from 'yargs';
import { isLoopback, LOCAL_HOST, WORKER_PORT } from '../contract/addresses.js';
import { UsageError } from '../usage-error.js';
import { inflightOptions, integerOption, LISTEN_PORT, MAX_TIMER_MS, parseDurationFlag, TIMER_MS } from '../flags.js';
import { KERNEL_STAMPS_OPTION } from '../kernel/flag.js';
import { serveRole } from '../role.js';
import { withExamples, type Example } from '../command-line/examples.js';
import { metricsOptions, type MetricsArgs } from '../metrics/flags.js';
import { DEFAULT_MAX_INSTANCES, DEFAULT_MAX_INSTANCES_TOTAL, startWorker, WORKER_LIMITS } from './worker.js';
import { CALL_MODES, DEFAULT_MAX_CALL_DEPTH, DEFAULT_MAX_NESTED_CALLS, MAX_CALL_DEPTH_LIMIT, type CallMode } from '../contract/composition.js';
import { BOOT_AHEAD, type BootAhead } from '../workflow/engine.js';
import { splitAddress } from '../rpc/client.js';

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
  'max-instances-total': number;
  'min-instances': number;
  'max-inflight': number;
  'max-inflight-per-connection': number;
  'read-timeout-ms': number;
  'send-timeout-ms': number;
  'max-reply-bytes-per-connection': number;
  secret?: string;
  'allow-fault-functions': boolean;
  'hello-timeout-ms': number;
  'sample-interval-ms': number;
  'kernel-stamps': boolean;
  'insecure-no-secret': boolean;
  'experiment-slowdown': number;
  workflows?: string;
  'call-mode': CallMode;
  'call-worker'?: string;
  'call-gateway'?: string;
  coordinator: 'worker' | 'function';
  'boot-ahead': BootAhead;
  'max-call-depth': number;
  'max-nested-calls': number;
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
      .option('kernel-stamps', KERNEL_STAMPS_OPTION)
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
        // The next word is the value even when it looks like a flag ("-1s"), so that its error names it.
        nargs: 1,
        default: 600_000,
        defaultDescription: '10m',
        describe: 'An idle instance ends after this long without a call ("90s", "10m")',
        coerce: (raw: unknown): number => (typeof raw === 'number' ? raw : parseDurationFlag('keep-warm', String(raw), { min: 1, max: MAX_TIMER_MS })),
      })
      .option('max-instances', integerOption('max-instances', { min: 1, max: 1000 }, 'Instances per function at most; further calls wait (worker queue)', DEFAULT_MAX_INSTANCES))
      .option(
        'max-instances-total',
        integerOption('max-instances-total', { min: 1, max: 100_000 }, 'Instances of all functions together at most; a call beyond ends the longest-idle or waits', DEFAULT_MAX_INSTANCES_TOTAL),
      )
      .option('min-instances', integerOption('min-instances', { min: 0, max: 1000 }, 'Instances per function started at start and kept warm', 0))
      .options(inflightOptions('Calls', 'worker', 'beyond: refused, overloaded', WORKER_LIMITS))
      .option('read-timeout-ms', integerOption('read-timeout-ms', TIMER_MS, 'A call frame begun must arrive whole within this, or its client is disconnected', WORKER_LIMITS.readTimeoutMs))
      .option('send-timeout-ms', integerOption('send-timeout-ms', TIMER_MS, 'Disconnect a client that takes none of its replies for this long', WORKER_LIMITS.sendTimeoutMs))
      .option(
        'max-reply-bytes-per-connection',
        integerOption(
          'max-reply-bytes-per-connection',
          { min: 1, max: 2 ** 40 },
          'Bytes of replies one client connection may leave unread; beyond, its calls wait unread and a result that would pass it is answered overloaded',
          WORKER_LIMITS.maxReplyBytesPerConnection,
        ),
      )
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
      .option('workflows', { type: 'string', describe: 'Directory of workflow definitions (YAML or JSON), each served at /NAME like a function' })
      .option('call-mode', {
        choices: CALL_MODES,
        default: 'local' as CallMode,
        describe: "How nested calls (ctx.call, workflow steps) travel: inside this worker (local), over the RPC link to a worker (rpc), or back through a gateway over HTTP (http)",
      })
      .option('call-worker', { type: 'string', describe: 'With --call-mode rpc: HOST:PORT[,HOST:PORT…] of the workers nested calls go to (default: this worker)' })
      .option('call-gateway', { type: 'string', describe: 'With --call-mode http: the gateway nested calls go through, e.g. http://127.0.0.1:8080' })
      .option('coordinator', {
        choices: ['worker', 'function'] as const,
        default: 'worker' as const,
        describe: "Who runs a workflow: the worker's own engine, or a coordinator function (an instance of its own)",
      })
      .option('boot-ahead', {
        choices: BOOT_AHEAD,
        default: 'none' as BootAhead,
        describe: "The worker engine's policy: boot a step's function ahead of its call (next: when the step before starts; all: when the workflow starts)",
      })
      .option('max-call-depth', integerOption('max-call-depth', { min: 1, max: MAX_CALL_DEPTH_LIMIT }, 'Nested calls deeper than this are refused (call_depth_exceeded)', DEFAULT_MAX_CALL_DEPTH))
      .option('max-nested-calls', integerOption('max-nested-calls', { min: 1, max: 100_000 }, 'Nested calls this worker may have in flight; more are refused (too_many_calls)', DEFAULT_MAX_NESTED_CALLS))
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
    if (secret === undefined && !a['insecure-no-secret'] && !(await hostIsLoopback(a.host))) {
      throw new UsageError(
        `refusing to listen on ${a.host} without a secret: anyone who can reach it could run the functions; ` +
          'set --secret or $FAASBENCH_SECRET (and the same on the gateways), or pass --insecure-no-secret',
      );
    }
    if (a['call-mode'] === 'http' && a['call-gateway'] === undefined) throw new UsageError('--call-mode http needs --call-gateway URL: the gateway nested calls go through');
    if (a['call-gateway'] !== undefined && !/^http:\/\/[^/]+\/?$/.test(a['call-gateway'])) {
      throw new UsageError(`--call-gateway must be http://HOST:PORT, got ${JSON.stringify(a['call-gateway'])}`);
    }
    const callWorkers = a['call-worker']?.split(',').map((w) => w.trim());
    if (callWorkers) {
      try {
        callWorkers.forEach(splitAddress);
      } catch (err) {
        throw new UsageError(`--call-worker: ${(err as Error).message}`);
      }
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
        maxInstancesTotal: a['max-instances-total'],
        minInstances: a['min-instances'],
        limits: {
          maxInflight: a['max-inflight'],
          maxInflightPerConnection: a['max-inflight-per-connection'],
          readTimeoutMs: a['read-timeout-ms'],
          sendTimeoutMs: a['send-timeout-ms'],
          maxReplyBytesPerConnection: a['max-reply-bytes-per-connection'],
        },
        secret,
        allowFaultFunctions: a['allow-fault-functions'],
        helloTimeoutMs: a['hello-timeout-ms'],
        experimentSlowdown: a['experiment-slowdown'],
        workflowsDir: a.workflows,
        callMode: a['call-mode'],
        callWorkers,
        callGateway: a['call-gateway'],
        coordinator: a.coordinator,
        bootAhead: a['boot-ahead'],
        maxCallDepth: a['max-call-depth'],
        maxNestedCalls: a['max-nested-calls'],
        sampleIntervalMs: a['sample-interval-ms'],
        metricsPort: a['metrics-port'],
        metricsHost: a['metrics-host'],
        metricsToken: a['metrics-token'] || undefined,
        kernelStamps: a['kernel-stamps'],
        logger,
      }),
    );
  },
};

/** Every address `host` stands for is a loopback address. */
async function hostIsLoopback(host: string): Promise<boolean> {
  try {
    return await isLoopback(host);
  } catch (err) {
    throw new UsageError(`cannot resolve --host ${host}: ${(err as Error).message}`);
  }
}
