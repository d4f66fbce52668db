import type { CommandModule } from 'yargs';
import { createLogger } from '../log.js';
import { closeOnSignal } from '../role.js';
import { ConfigError } from '../config-file.js';
import { UsageError } from '../usage-error.js';
import { integerOption, LISTEN_PORT } from '../flags.js';
import { splitAddress } from '../rpc/client.js';
import { alertingBinaries, startAlerting, type AlertingStack } from './alerting.js';
import { policyParams, readPolicySection, type PolicySection } from './params.js';
import { POLICIES, type PolicyName } from './policies.js';
import { PoolActuator } from './pool.js';
import { Scaler } from './scaler.js';
import { startWebhook, type Webhook } from './webhook.js';

interface ScalerArgs {
  policy: PolicyName;
  'workers-file': string;
  pool: string;
  config?: string;
  'gateway-metrics'?: string;
  'webhook-host': string;
  'webhook-port': number;
  alerting: 'local' | 'none';
}

export const scalerCommand: CommandModule<object, ScalerArgs> = {
  command: 'scaler',
  describe: "Scale a fleet of pre-deployed workers: write the gateways' --workers-file with as many of --pool as the policy wants",
  builder: (y) =>
    y
      .option('policy', { choices: POLICIES, demandOption: true, describe: 'fixed; concurrency (Knative: the gateways\' calls in flight); alert (OpenFaaS: Alertmanager\'s webhook)' })
      .option('workers-file', { type: 'string', demandOption: true, describe: 'The file the gateways watch (gateway --workers-file); written atomically' })
      .option('pool', { type: 'string', demandOption: true, describe: 'The workers that may be used, HOST:PORT separated by commas, in the order they are taken' })
      .option('config', { type: 'string', describe: "An experiment config whose `scaling` section gives the policy's parameters (defaults: docs/commands.md)" })
      .option('gateway-metrics', { type: 'string', describe: "The gateways' /metrics URLs, separated by commas (concurrency; alert with --alerting local)" })
      .option('webhook-host', { type: 'string', default: '127.0.0.1', describe: "alert: the address of the webhook Alertmanager calls" })
      .option('webhook-port', integerOption('webhook-port', LISTEN_PORT, 'alert: its port (0: any free port)', 9095))
      .option('alerting', {
        choices: ['local', 'none'] as const,
        default: 'none' as const,
        describe: 'alert: start Prometheus (scraping --gateway-metrics) and Alertmanager on this machine, or none (yours call the webhook)',
      })
      .example('$0 scaler --policy concurrency --workers-file /etc/faasbench/workers --pool 10.0.0.31:7070,10.0.0.32:7070 --gateway-metrics http://10.0.0.21:9464/metrics', '')
      .check((a) => {
        for (const w of a.pool.split(',')) splitAddress(w.trim());
        if ((a.policy === 'concurrency' || a.alerting === 'local') && !a['gateway-metrics']) throw new Error(`--gateway-metrics is needed with --policy ${a.policy}${a.alerting === 'local' ? ' --alerting local' : ''}`);
        return true;
      }),
  handler: async (a) => {
    const logger = createLogger('scaler');
    let section: PolicySection = {};
    try {
      if (a.config) section = await readPolicySection(a.config);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    const params = policyParams(section);
    const pool = a.pool.split(',').map((w) => w.trim());
    const metricsUrls = (a['gateway-metrics'] ?? '').split(',').map((u) => u.trim()).filter(Boolean);
    const initial = a.policy === 'fixed' ? params.fixed.workers : a.policy === 'concurrency' ? params.concurrency.min : params.alert.min;
    const actuator = new PoolActuator(pool, a['workers-file'], initial);
    await actuator.init();
    const scaler = new Scaler({
      policy: a.policy,
      ...params,
      actuator,
      metricsUrls,
      logger,
      onDecision: (d) => {
        if (d.desired !== d.current) logger.info({ reason: d.reason, from: d.current, to: d.desired, ...d.values }, 'scaler decision');
      },
    });
    let webhook: Webhook | null = null;
    let alerting: AlertingStack | null = null;
    if (a.policy === 'alert') {
      webhook = await startWebhook(a['webhook-host'], a['webhook-port'], (alerts) => scaler.alerts(alerts));
      if (a.alerting === 'local') {
        const binaries = alertingBinaries();
        if ('missing' in binaries) throw new UsageError(binaries.missing);
        alerting = await startAlerting(binaries, metricsUrls.map((u) => new URL(u).host), webhook.url, params.alert);
      }
    }
    scaler.start();
    logger.info(
      { policy: a.policy, workers: actuator.target, pool: pool.length, webhook: webhook?.url ?? null, prometheus: alerting?.prometheusUrl ?? null, alertmanager: alerting?.alertmanagerUrl ?? null },
      'scaler running',
    );
    closeOnSignal(async () => {
      await scaler.stop();
      await alerting?.stop();
      await webhook?.close();
    }, logger);
  },
};
