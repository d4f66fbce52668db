import { join } from 'node:path';
import type { Logger } from '../log.js';
import { startRpcServer } from '../rpc/server.js';
import { formatWorkerRecord, sampleRecordFormatter } from '../trace/records.js';
import { openRecordSink } from '../trace/record-writer.js';
import { DEFAULT_SAMPLE_INTERVAL_MS, Sampler } from '../trace/sampler.js';
import { Executor } from './executor.js';
import { defaultFunctionsDir, faultFunctionsDir, loadFunctions } from './registry.js';

export interface WorkerOptions {
  host: string;
  port: number;
  log?: string;
  functionsDir?: string;
  timeoutMs: number;
  poolMemoryMb: number;
  secret?: string;
  /** Also load the misbehaving functions (functions/faults). */
  allowFaultFunctions?: boolean;
  helloTimeoutMs?: number;
  /** Saturation samples into the records this often; 0: none. Only with `log`. */
  sampleIntervalMs?: number;
  logger: Logger;
}

export interface RunningWorker {
  address: { host: string; port: number };
  functions: string[];
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const dir = options.functionsDir ?? defaultFunctionsDir;
  const functions = await loadFunctions(dir);
  if (options.allowFaultFunctions) {
    for (const [name, fn] of await loadFunctions(faultFunctionsDir)) functions.set(name, fn);
  }
  const executor = new Executor({
    functions,
    assetsDir: join(dir, 'assets'),
    timeoutMs: options.timeoutMs,
    poolMemoryMb: options.poolMemoryMb,
  });
  const sink = openRecordSink(options.log);
  const server = await startRpcServer({
    host: options.host,
    port: options.port,
    logger: options.logger,
    secret: options.secret,
    helloTimeoutMs: options.helloTimeoutMs,
    functions: [...functions.keys()],
    handle: (call) => executor.run(call.fn, call.args),
    onReplySent: (call, outcome, t3_recv, t3_send) =>
      sink.write(
        formatWorkerRecord({
          id: call.rid,
          fn: call.fn,
          error: outcome.err?.code ?? null,
          t3_recv,
          t3_start: outcome.t3_start,
          t3_end: outcome.t3_end,
          t3_send,
        }),
      ),
  });
  const interval = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  const format = sampleRecordFormatter('worker');
  const sampler =
    options.log && interval > 0
      ? new Sampler({ intervalMs: interval, gauges: () => ({ ...executor.load }), onSample: (s) => sink.write(format(s)) }).start()
      : null;
  options.logger.info(
    { address: `${server.address.address}:${server.address.port}`, functions: [...functions.keys()], records: options.log ?? null },
    'worker listening',
  );
  return {
    address: { host: server.address.address, port: server.address.port },
    functions: [...functions.keys()],
    async close() {
      sampler?.stop();
      await server.close();
      await executor.close();
      await sink.close();
    },
  };
}
