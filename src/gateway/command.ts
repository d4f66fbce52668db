import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { DEFAULT_WORKER, GATEWAY_PORT, LOCAL_HOST } from '../contract/addresses.js';
import { inflightOptions, integerOption, LISTEN_PORT, TIMER_MS } from '../flags.js';
import { KERNEL_STAMPS_OPTION } from '../kernel/flag.js';
import { serveRole } from '../role.js';
import { withExamples, type Example } from '../command-line/examples.js';
import { metricsOptions, type MetricsArgs } from '../metrics/flags.js';
import { BALANCE_POLICIES, type BalancePolicy } from '../rpc/balance.js';
import { splitAddress } from '../rpc/client.js';
import { DEFAULT_EJECTION, DEFAULT_HEALTH } from '../rpc/fleet.js';
import { parseWorkersFile } from '../rpc/fleet-sources.js';
import { MAX_BINARY_ARG_BYTES } from '../rpc/protocol.js';
import { FRAMEWORKS, type Framework } from './adapters/index.js';
import { COMPRESSIONS, type Compression } from './compression.js';
import { GATEWAY_LIMITS, startGateway } from './gateway.js';

interface GatewayArgs extends MetricsArgs {
  framework: Framework | 'tcp';
  compression: Compression;
  host: string;
  port: number;
  worker?: string;
  'workers-file'?: string;
  'resolve-interval-ms': number;
  'health-interval-ms': number;
  'unhealthy-threshold': number;
  'healthy-threshold': number;
  'eject-after': number;
  'eject-slow-ms': number;
  'ejection-time-ms': number;
  'max-ejection-percent': number;
  'retry-lost': boolean;
  log?: string;
  'timeout-ms': number;
  'max-body-bytes': number;
  'worker-connections': number;
  balance: BalancePolicy;
  'max-uploads-bytes': number;
  'request-timeout-ms': number;
  'headers-timeout-ms': number;
  'max-inflight': number;
  'max-inflight-per-connection': number;
  'send-timeout-ms': number;
  secret?: string;
  'sample-interval-ms': number;
  'kernel-stamps': boolean;
  'server-timing': boolean;
  results: 'forward' | 'decode';
}

const EXAMPLES: Example[] = [
  ['fastify in front of a worker on this host, a record per request', '$0 gateway --framework fastify --log gateway.ndjson'],
  ['two workers on other hosts, called in turn (see --balance)', '$0 gateway --framework koa --worker 10.0.0.3:7070,10.0.0.4:7070'],
  ['the TCP front: the RPC protocol instead of HTTP (callers use tcp://)', '$0 gateway --framework tcp --port 8081'],
];

export const gatewayCommand: CommandModule<object, GatewayArgs> = {
  command: 'gateway',
  describe: 'Serve /empty, /sleep, /math, /image and every other function the workers announce (at /NAME) over HTTP, forwarding each call to a worker',
  builder: (y) => {
    const flags = y
      // The one required flag first.
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
        defaultDescription: `${DEFAULT_WORKER} (none with --workers-file)`,
        describe: 'Worker address HOST:PORT; several separated by commas',
      })
      .option('workers-file', {
        type: 'string',
        describe: 'Also the workers listed in FILE, one HOST:PORT a line, re-read when it changes: new ones are added, ones no longer listed drain (no new calls; their calls in flight finish). Write it atomically (a temporary file, then rename)',
      })
      .option(
        'resolve-interval-ms',
        integerOption('resolve-interval-ms', { min: 0, max: 3_600_000 }, 'Re-resolve worker host names this often, each to every address it has (a Kubernetes headless Service); 0: connect to names as given', 0),
      )
      .option(
        'health-interval-ms',
        integerOption('health-interval-ms', { min: 0, max: 3_600_000 }, 'Ping every worker link this often; a ping unanswered by the next is a miss; 0: no pings', DEFAULT_HEALTH.intervalMs),
      )
      .option('unhealthy-threshold', integerOption('unhealthy-threshold', { min: 1, max: 1000 }, 'Misses in a row that stop calls to a worker', DEFAULT_HEALTH.unhealthyThreshold))
      .option('healthy-threshold', integerOption('healthy-threshold', { min: 1, max: 1000 }, 'Answered pings in a row that bring it back', DEFAULT_HEALTH.healthyThreshold))
      .option(
        'eject-after',
        integerOption('eject-after', { min: 0, max: 100_000 }, 'Eject a worker after this many timed-out (or, with --eject-slow-ms, slow) calls in a row; 0: never', DEFAULT_EJECTION.consecutive),
      )
      .option('eject-slow-ms', integerOption('eject-slow-ms', { min: 0, max: 3_600_000 }, 'A call answered later than this counts against its worker as a failure; 0: only timeouts', 0))
      .option(
        'ejection-time-ms',
        integerOption('ejection-time-ms', { min: 1, max: 3_600_000 }, 'An ejected worker is out this long times its ejections so far (at most 300 s or this)', DEFAULT_EJECTION.baseMs),
      )
      .option('max-ejection-percent', integerOption('max-ejection-percent', { min: 0, max: 100 }, 'Eject at most this share of the workers at once (one always may be)', DEFAULT_EJECTION.maxPercent))
      .option('retry-lost', {
        type: 'boolean',
        default: false,
        describe: 'Send a call once more, to another worker, when its worker is lost before it replies (it may have started there)',
      })
      .option('balance', {
        choices: BALANCE_POLICIES,
        default: 'round-robin' as BalancePolicy,
        describe: 'How calls are spread over the workers: in turn, to the fewest calls in flight, or the less busy of two drawn at random',
      })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per request to this file (gzipped when it ends in .gz)' })
      .option('kernel-stamps', KERNEL_STAMPS_OPTION)
      .option(
        'sample-interval-ms',
        integerOption('sample-interval-ms', { min: 0, max: 3_600_000 }, 'With --log: write a saturation sample (event-loop use and delay, CPU, RSS, calls in flight) this often; 0: none', 1000),
      )
      .option('timeout-ms', integerOption('timeout-ms', TIMER_MS, "The gateway's own limit for one call", 35_000))
      .option('max-body-bytes', integerOption('max-body-bytes', { min: 1, max: MAX_BINARY_ARG_BYTES }, 'Largest POST /image body (what fits in one RPC frame at most)', 8 * 1024 * 1024))
      .option('max-uploads-bytes', integerOption('max-uploads-bytes', { min: 1, max: 2 ** 40 }, 'Bytes of request bodies in progress across the gateway (503 uploads_full beyond)', 64 * 1024 * 1024))
      .option('request-timeout-ms', integerOption('request-timeout-ms', TIMER_MS, 'Time to receive a whole request (then 408)', 30_000))
      .option('headers-timeout-ms', integerOption('headers-timeout-ms', TIMER_MS, "Time to receive a request's headers (then 408)", 10_000))
      .options(inflightOptions('Requests', 'gateway', '503 overloaded beyond', GATEWAY_LIMITS))
      .option('send-timeout-ms', integerOption('send-timeout-ms', TIMER_MS, 'Close a client that takes none of its answer for this long', GATEWAY_LIMITS.sendTimeoutMs))
      // Each is a socket and a file descriptor: far more than the CPUs serve no purpose and end in EMFILE.
      .option('worker-connections', integerOption('worker-connections', { min: 1, max: 64 }, 'Persistent connections to each worker', 1))
      .option('secret', {
        type: 'string',
        default: process.env.FAASBENCH_SECRET,
        defaultDescription: '$FAASBENCH_SECRET',
        describe: 'Shared secret presented to the workers',
      })
      .option('server-timing', {
        type: 'boolean',
        default: true,
        describe: "Answers carry a Server-Timing header with the request's stages (--no-server-timing: none)",
      })
      .option('results', {
        choices: ['forward', 'decode'] as const,
        default: 'forward' as const,
        describe:
          "forward: the worker sends each answer's bytes (a result's JSON text made where it ran), forwarded as they are; " +
          'decode: results come as msgpack values the gateway decodes and writes as JSON itself (the path before protocol 3)',
      });
    return withExamples(metricsOptions(flags), EXAMPLES).check((a) => {
      for (const w of workersOf(a)) splitAddress(w);
      if (a['workers-file'] !== undefined) {
        let text: string;
        try {
          text = readFileSync(a['workers-file'], 'utf8');
        } catch (err) {
          throw new Error(`cannot read --workers-file: ${(err as Error).message}`);
        }
        parseWorkersFile(text, a['workers-file']);
      }
      if (a['max-uploads-bytes'] < a['max-body-bytes']) throw new Error('--max-uploads-bytes must be no smaller than --max-body-bytes');
      // The TCP front has no headers: only the request timeout applies to it (a call frame's).
      if (a.framework !== 'tcp' && a['headers-timeout-ms'] > a['request-timeout-ms']) throw new Error('--headers-timeout-ms must not exceed --request-timeout-ms');
      if (a.framework === 'tcp' && a.compression !== 'none') throw new Error('--compression applies to the HTTP frameworks; the TCP front answers msgpack as it is');
      return true;
    });
  },
  handler: async (a) => {
    await serveRole('gateway', (logger) =>
      startGateway({
        framework: a.framework,
        compression: a.compression,
        host: a.host,
        port: a.port,
        workers: workersOf(a),
        workersFile: a['workers-file'],
        resolveIntervalMs: a['resolve-interval-ms'],
        health: { intervalMs: a['health-interval-ms'], unhealthyThreshold: a['unhealthy-threshold'], healthyThreshold: a['healthy-threshold'] },
        ejection: {
          consecutive: a['eject-after'],
          slowMs: a['eject-slow-ms'],
          baseMs: a['ejection-time-ms'],
          maxMs: DEFAULT_EJECTION.maxMs,
          maxPercent: a['max-ejection-percent'],
        },
        retryLost: a['retry-lost'],
        log: a.log,
        timeoutMs: a['timeout-ms'],
        maxBodyBytes: a['max-body-bytes'],
        maxUploadsBytes: a['max-uploads-bytes'],
        requestTimeoutMs: a['request-timeout-ms'],
        headersTimeoutMs: a['headers-timeout-ms'],
        maxInflight: a['max-inflight'],
        maxInflightPerConnection: a['max-inflight-per-connection'],
        sendTimeoutMs: a['send-timeout-ms'],
        connectionsPerWorker: a['worker-connections'],
        balance: a.balance,
        secret: a.secret === '' ? undefined : a.secret,
        sampleIntervalMs: a['sample-interval-ms'],
        metricsPort: a['metrics-port'],
        metricsHost: a['metrics-host'],
        metricsToken: a['metrics-token'] || undefined,
        serverTiming: a['server-timing'],
        kernelStamps: a['kernel-stamps'],
        results: a.results,
        logger,
      }),
    );
  },
};

/** --worker's addresses; the default worker only when neither --worker nor --workers-file names any. */
function workersOf(a: { worker?: string; 'workers-file'?: string }): string[] {
  if (a.worker === undefined) return a['workers-file'] === undefined ? [DEFAULT_WORKER] : [];
  return a.worker.split(',').map((w) => w.trim());
}
