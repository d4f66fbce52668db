import type { CommandModule } from 'yargs';
import { LOCAL_HOST, WORKER_PORT } from '../commands.js';
import { closeOnSignal } from '../lifecycle.js';
import { createLogger } from '../log.js';
import { startWorker } from './worker.js';

interface WorkerArgs {
  host: string;
  port: number;
  log?: string;
  functions?: string;
  'timeout-ms': number;
  'function-memory-mb': number;
  secret?: string;
  'allow-fault-functions': boolean;
  'hello-timeout-ms': number;
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  aliases: ['rpc-worker'],
  describe: 'Run the functions: a TCP RPC server that the gateways call',
  builder: (y) =>
    y
      .option('host', { type: 'string', default: LOCAL_HOST, describe: 'Address to listen on' })
      .option('port', { type: 'number', default: WORKER_PORT, describe: 'TCP port to listen on (0: any free port)' })
      .option('log', { type: 'string', describe: 'Append one NDJSON record per call to this file' })
      .option('functions', { type: 'string', describe: 'Directory of function modules (default: the bundled functions)' })
      .option('timeout-ms', { type: 'number', default: 30_000, describe: 'Time limit of one function call' })
      .option('function-memory-mb', {
        type: 'number',
        default: 512,
        describe: 'Heap limit of each pool thread (CPU-bound functions run there)',
      })
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
      .option('hello-timeout-ms', {
        type: 'number',
        default: 5000,
        describe: 'Disconnect a client that has not said hello within this time',
      })
      .check((a) => {
        if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error('--port must be 0..65535');
        if (!(a['timeout-ms'] > 0)) throw new Error('--timeout-ms must be positive');
        if (!(a['function-memory-mb'] >= 16)) throw new Error('--function-memory-mb must be at least 16');
        return true;
      }),
  handler: async (a) => {
    const logger = createLogger('worker');
    const worker = await startWorker({
      host: a.host,
      port: a.port,
      log: a.log,
      functionsDir: a.functions,
      timeoutMs: a['timeout-ms'],
      poolMemoryMb: a['function-memory-mb'],
      secret: a.secret,
      allowFaultFunctions: a['allow-fault-functions'],
      helloTimeoutMs: a['hello-timeout-ms'],
      logger,
    });
    closeOnSignal(() => worker.close(), logger);
  },
};
