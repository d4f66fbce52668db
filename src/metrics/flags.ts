import type { Argv } from 'yargs';
import { integerOption, LISTEN_PORT } from '../flags.js';

export interface MetricsArgs {
  'metrics-port'?: number;
  'metrics-host': string;
  'metrics-token'?: string;
}

/** --metrics-port and --metrics-host, the same on every server role. */
export function metricsOptions<T>(y: Argv<T>): Argv<T & MetricsArgs> {
  return y
    .option('metrics-port', integerOption('metrics-port', LISTEN_PORT, 'Serve Prometheus metrics at /metrics on this port (0: any free port; default: off)'))
    .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'Address the metrics port listens on (beyond loopback: set a token)' })
    .option('metrics-token', {
      type: 'string',
      default: process.env.FAASBENCH_METRICS_TOKEN,
      defaultDescription: '$FAASBENCH_METRICS_TOKEN',
      describe: '/metrics answers only requests with "Authorization: Bearer TOKEN"',
    }) as Argv<T & MetricsArgs>;
}
