import type { CommandModule } from 'yargs';
import { integerOption, LISTEN_PORT, TIMER_MS } from '../flags.js';
import { closeOnSignal, startOrExplain } from '../lifecycle.js';
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
  'sample-interval-ms': number;
}

export const gatewayCommand: CommandModule<object, GatewayArgs> = {
  command: 'gateway',
  describe: 'Serve /empty, /sleep, /math and /image over HTTP, forwarding each call to a worker',
  builder: (y) =>
    y
      .option('framework', { choices: FRAMEWORKS, demandOption: true, describe: 'HTTP framework of the front' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on' })
      .option('port', integerOption('port', LISTEN_PORT, 'HTTP port (0: any free port)', 8080))
      .option('worker', {
        type: 'string',
        default: '127.0.0.1:7070',
        describe: 'Worker address HOST:PORT; several separated by commas',
      })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per request to this file' })
      .option(
        'sample-interval-ms',
        integerOption('sample-interval-ms', { min: 0, max: 3_600_000 }, 'With --log: write a saturation sample (event-loop use and delay, CPU, RSS, calls in flight) this often; 0: none', 1000),
      )
      .option('timeout-ms', integerOption('timeout-ms', TIMER_MS, "The gateway's own limit for one call", 35_000))
      .option('max-body-bytes', { type: 'number', default: 8 * 1024 * 1024, describe: 'Largest POST /image body' })
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
        if (!(a['max-body-bytes'] > 0)) throw new Error('--max-body-bytes must be positive');
        return true;
      }),
  handler: async (a) => {
    const logger = createLogger('gateway');
    const gateway = await startOrExplain('gateway', () => startGateway({
      framework: a.framework,
      host: a.host,
      port: a.port,
      workers: a.worker.split(',').map((w) => w.trim()),
      log: a.log,
      timeoutMs: a['timeout-ms'],
      maxBodyBytes: a['max-body-bytes'],
      connectionsPerWorker: a['worker-connections'],
      secret: a.secret === '' ? undefined : a.secret,
      sampleIntervalMs: a['sample-interval-ms'],
      logger,
    }));
    closeOnSignal(() => gateway.close(), logger);
  },
};
