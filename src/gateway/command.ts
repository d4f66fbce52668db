import type { CommandModule } from 'yargs';
import { DEFAULT_WORKER, GATEWAY_PORT, LOCAL_HOST } from '../contract/addresses.js';
import { integerOption, LISTEN_PORT, TIMER_MS } from '../flags.js';
import { closeOnSignal, startOrExplain } from '../role.js';
import { createLogger } from '../log.js';
import { metricsOptions, type MetricsArgs } from '../metrics/flags.js';
import { BALANCE_POLICIES, type BalancePolicy } from '../rpc/balance.js';
import { splitAddress } from '../rpc/client.js';
import { MAX_BINARY_ARG_BYTES } from '../rpc/protocol.js';
import { FRAMEWORKS, type Framework } from './adapters/index.js';
import { COMPRESSIONS, type Compression } from './compression.js';
import { startGateway } from './gateway.js';

interface GatewayArgs extends MetricsArgs {
  framework: Framework | 'tcp';
  compression: Compression;
  host: string;
  port: number;
  worker: string;
  log?: string;
  'timeout-ms': number;
  'max-body-bytes': number;
  'worker-connections': number;
  balance: BalancePolicy;
  'max-uploads-bytes': number;
  'request-timeout-ms': number;
  'headers-timeout-ms': number;
  secret?: string;
  'sample-interval-ms': number;
  'server-timing': boolean;
  results: 'forward' | 'decode';
}

export const gatewayCommand: CommandModule<object, GatewayArgs> = {
  command: 'gateway',
  describe: 'Serve /empty, /sleep, /math, /image and every other function the workers announce (at /NAME) over HTTP, forwarding each call to a worker',
  builder: (y) =>
    metricsOptions(y)
      .option('server-timing', {
        type: 'boolean',
        default: true,
        describe: "Answers carry a Server-Timing header with the request's stages (--no-server-timing: none)",
      })
      .option('results', {
        choices: ['forward', 'decode'] as const,
        default: 'forward' as const,
        describe:
          "forward: the worker sends each answer's bytes (a result's JSON text made where it ran) and they are forwarded as they are; " +
          'decode: results come as msgpack values that the gateway decodes and writes as JSON itself (the path before protocol 2)',
      })
      .option('framework', {
        choices: [...FRAMEWORKS, 'tcp' as const],
        demandOption: true,
        describe: 'HTTP framework of the front, or tcp: the RPC protocol itself (no HTTP; callers use tcp:// URLs)',
      })
      .option('compression', {
        choices: COMPRESSIONS,
        default: 'none' as Compression,
        describe: "Compress responses (text and JSON of 1024 bytes or more) when the client accepts it, with the framework's own middleware",
      })
      .option('host', { type: 'string', default: LOCAL_HOST, describe: 'Address to listen on' })
      .option('port', integerOption('port', LISTEN_PORT, 'HTTP port (0: any free port)', GATEWAY_PORT))
      .option('worker', {
        type: 'string',
        default: DEFAULT_WORKER,
        describe: 'Worker address HOST:PORT; several separated by commas',
      })
      .option('balance', {
        choices: BALANCE_POLICIES,
        default: 'round-robin' as BalancePolicy,
        describe: 'How calls are spread over the workers: in turn, to the fewest calls in flight, or the less busy of two drawn at random',
      })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per request to this file (gzipped when it ends in .gz)' })
      .option(
        'sample-interval-ms',
        integerOption('sample-interval-ms', { min: 0, max: 3_600_000 }, 'With --log: write a saturation sample (event-loop use and delay, CPU, RSS, calls in flight) this often; 0: none', 1000),
      )
      .option('timeout-ms', integerOption('timeout-ms', TIMER_MS, "The gateway's own limit for one call", 35_000))
      .option('max-body-bytes', { type: 'number', default: 8 * 1024 * 1024, describe: 'Largest POST /image body' })
      .option('max-uploads-bytes', integerOption('max-uploads-bytes', { min: 1, max: 2 ** 40 }, 'Bytes of request bodies in progress across the gateway (503 uploads_full beyond)', 64 * 1024 * 1024))
      .option('request-timeout-ms', integerOption('request-timeout-ms', TIMER_MS, 'Time to receive a whole request (then 408)', 30_000))
      .option('headers-timeout-ms', integerOption('headers-timeout-ms', TIMER_MS, "Time to receive a request's headers (then 408)", 10_000))
      // Each is a socket and a file descriptor: far more than the CPUs serve no purpose and end in EMFILE.
      .option('worker-connections', integerOption('worker-connections', { min: 1, max: 64 }, 'Persistent connections to each worker', 1))
      .option('secret', {
        type: 'string',
        default: process.env.FAASBENCH_SECRET,
        defaultDescription: '$FAASBENCH_SECRET',
        describe: 'Shared secret presented to the workers',
      })
      .check((a) => {
        for (const w of a.worker.split(',')) splitAddress(w.trim());
        if (!Number.isInteger(a['max-body-bytes']) || a['max-body-bytes'] < 1 || a['max-body-bytes'] > MAX_BINARY_ARG_BYTES) {
          // A larger upload could not travel to the worker in one RPC frame.
          throw new Error(`--max-body-bytes must be an integer from 1 to ${MAX_BINARY_ARG_BYTES} (what fits in one RPC frame)`);
        }
        if (a['max-uploads-bytes'] < a['max-body-bytes']) throw new Error('--max-uploads-bytes must be no smaller than --max-body-bytes');
        if (a['headers-timeout-ms'] > a['request-timeout-ms']) throw new Error('--headers-timeout-ms must not exceed --request-timeout-ms');
        if (a.framework === 'tcp' && a.compression !== 'none') throw new Error('--compression applies to the HTTP frameworks; the TCP front answers msgpack as it is');
        return true;
      }),
  handler: async (a) => {
    const logger = createLogger('gateway');
    const gateway = await startOrExplain('gateway', () => startGateway({
      framework: a.framework,
      compression: a.compression,
      host: a.host,
      port: a.port,
      workers: a.worker.split(',').map((w) => w.trim()),
      log: a.log,
      timeoutMs: a['timeout-ms'],
      maxBodyBytes: a['max-body-bytes'],
      maxUploadsBytes: a['max-uploads-bytes'],
      requestTimeoutMs: a['request-timeout-ms'],
      headersTimeoutMs: a['headers-timeout-ms'],
      connectionsPerWorker: a['worker-connections'],
      balance: a.balance,
      secret: a.secret === '' ? undefined : a.secret,
      sampleIntervalMs: a['sample-interval-ms'],
      metricsPort: a['metrics-port'],
      metricsHost: a['metrics-host'],
      serverTiming: a['server-timing'],
      results: a.results,
      logger,
    }));
    closeOnSignal(() => gateway.close(), logger);
  },
};
