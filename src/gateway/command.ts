import type { CommandModule } from 'yargs';
import { DEFAULT_WORKER, GATEWAY_PORT, LOCAL_HOST } from '../commands.js';
import { closeOnSignal } from '../lifecycle.js';
import { createLogger } from '../log.js';
import { splitAddress } from '../rpc/client.js';
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
  secret?: string;
}

export const gatewayCommand: CommandModule<object, GatewayArgs> = {
  command: 'gateway',
  describe: 'Serve /empty, /sleep, /math and /image over HTTP, forwarding each call to a worker',
  builder: (y) =>
    y
      .option('framework', { choices: FRAMEWORKS, demandOption: true, describe: 'HTTP framework of the front' })
      .option('host', { type: 'string', default: LOCAL_HOST, describe: 'Address to listen on' })
      .option('port', { type: 'number', default: GATEWAY_PORT, describe: 'HTTP port (0: any free port)' })
      .option('worker', {
        type: 'string',
        default: DEFAULT_WORKER,
        describe: 'Worker address HOST:PORT; several separated by commas',
      })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per request to this file' })
      .option('timeout-ms', { type: 'number', default: 35_000, describe: "The gateway's own limit for one call" })
      .option('max-body-bytes', { type: 'number', default: 8 * 1024 * 1024, describe: 'Largest POST /image body' })
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
        if (!(a['max-body-bytes'] > 0)) throw new Error('--max-body-bytes must be positive');
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
      connectionsPerWorker: a['worker-connections'],
      secret: a.secret,
      logger,
    });
    closeOnSignal(() => gateway.close(), logger);
  },
};
