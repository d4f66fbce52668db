import type { CommandModule } from 'yargs';
import { closeOnSignal } from '../lifecycle.js';
import { createLogger } from '../log.js';
import { splitAddress } from '../rpc/client.js';
import { MAX_BINARY_ARG_BYTES } from '../rpc/protocol.js';
import { FRAMEWORKS, type Framework } from './adapters/index.js';
import { startGateway } from './gateway.js';

interface GatewayArgs {
  framework: Framework;
  host: string;
  port: number;
  worker: string;
  log?: string;
  'timeout-ms': number;
  'max-body-bytes': number;
  'worker-connections': number;
  'max-uploads-bytes': number;
  'request-timeout-ms': number;
  'headers-timeout-ms': number;
  secret?: string;
}

export const gatewayCommand: CommandModule<object, GatewayArgs> = {
  command: 'gateway',
  describe: 'Serve /empty, /sleep, /math and /image over HTTP, forwarding each call to a worker',
  builder: (y) =>
    y
      .option('framework', { choices: FRAMEWORKS, demandOption: true, describe: 'HTTP framework of the front' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', { type: 'number', default: 8080, describe: 'HTTP port (0: any free port)' })
      .option('worker', {
        type: 'string',
        default: '127.0.0.1:7070',
        describe: 'Worker address HOST:PORT; several separated by commas',
      })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per request to this file' })
      .option('timeout-ms', { type: 'number', default: 35_000, describe: "The gateway's own limit for one call" })
      .option('max-body-bytes', { type: 'number', default: 8 * 1024 * 1024, describe: 'Largest POST /image body' })
      .option('max-uploads-bytes', {
        type: 'number',
        default: 64 * 1024 * 1024,
        describe: 'Bytes of request bodies in progress across the gateway (503 uploads_full beyond)',
      })
      .option('request-timeout-ms', { type: 'number', default: 30_000, describe: 'Time to receive a whole request (then 408)' })
      .option('headers-timeout-ms', { type: 'number', default: 10_000, describe: "Time to receive a request's headers (then 408)" })
      .option('worker-connections', { type: 'number', default: 1, describe: 'Persistent connections to each worker' })
      .option('secret', {
        type: 'string',
        default: process.env.FAASBENCH_SECRET,
        defaultDescription: '$FAASBENCH_SECRET',
        describe: 'Shared secret presented to the workers',
      })
      .check((a) => {
        if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error('--port must be 0..65535');
        for (const w of a.worker.split(',')) splitAddress(w.trim());
        if (!(a['timeout-ms'] > 0)) throw new Error('--timeout-ms must be positive');
        if (!Number.isInteger(a['max-body-bytes']) || a['max-body-bytes'] < 1 || a['max-body-bytes'] > MAX_BINARY_ARG_BYTES) {
          // A larger upload could not travel to the worker in one RPC frame.
          throw new Error(`--max-body-bytes must be an integer from 1 to ${MAX_BINARY_ARG_BYTES} (what fits in one RPC frame)`);
        }
        if (!Number.isInteger(a['max-uploads-bytes']) || a['max-uploads-bytes'] < a['max-body-bytes']) {
          throw new Error('--max-uploads-bytes must be an integer no smaller than --max-body-bytes');
        }
        for (const flag of ['request-timeout-ms', 'headers-timeout-ms'] as const) {
          // Beyond 2^31 - 1 ms node's timers fire at once.
          if (!Number.isInteger(a[flag]) || a[flag] < 1 || a[flag] > 2 ** 31 - 1) throw new Error(`--${flag} must be an integer from 1 to 2147483647`);
        }
        if (a['headers-timeout-ms'] > a['request-timeout-ms']) throw new Error('--headers-timeout-ms must not exceed --request-timeout-ms');
        if (!Number.isInteger(a['worker-connections']) || a['worker-connections'] < 1) {
          throw new Error('--worker-connections must be a positive integer');
        }
        return true;
      }),
  handler: async (a) => {
    const logger = createLogger('gateway');
    const gateway = await startGateway({
      framework: a.framework,
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
      secret: a.secret,
      logger,
    });
    closeOnSignal(() => gateway.close(), logger);
  },
};
