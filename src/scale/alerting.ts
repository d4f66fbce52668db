/**
 * The `alert` policy's real components on this machine: a Prometheus that
 * scrapes the gateways' /metrics and evaluates the scaling rule, and an
 * Alertmanager that sends its notifications to the scaler's webhook (Debian
 * packages `prometheus` and `prometheus-alertmanager`). Each runs with its
 * own configuration and storage in a temporary directory, on loopback, and
 * is killed by PID when stopped (or at exit at the latest).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertParams } from './policies.js';
import { freePort } from '../contract/addresses.js';

export interface AlertingStack {
  prometheusUrl: string;
  alertmanagerUrl: string;
  stop(): Promise<void>;
}

/** The alert of the scaling rule, by this name in Prometheus and Alertmanager. */
export const ALERT_NAME = 'FaasbenchScaleUp';

/** A binary on PATH among `names`, or null. */
export function findBinary(...names: string[]): string | null {
  for (const name of names) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

/** The binaries, or a one-line reason they are missing. */
export function alertingBinaries(): { prometheus: string; alertmanager: string } | { missing: string } {
  const prometheus = findBinary('prometheus');
  // Debian names Alertmanager's binary prometheus-alertmanager.
  const alertmanager = findBinary('alertmanager', 'prometheus-alertmanager');
  if (prometheus && alertmanager) return { prometheus, alertmanager };
  const missing = [prometheus ? null : 'prometheus', alertmanager ? null : 'prometheus-alertmanager'].filter(Boolean).join(' and ');
  return { missing: `the alert policy needs Prometheus and Alertmanager: apt-get install ${missing}` };
}

const seconds = (ms: number) => `${ms}ms`;

export function prometheusConfig(targets: string[], alertmanager: string, p: AlertParams): string {
  return [
    'global:',
    `  scrape_interval: ${seconds(p.scrapeMs)}`,
    `  evaluation_interval: ${seconds(p.evaluationMs)}`,
    'rule_files: [rules.yml]',
    'alerting:',
    '  alertmanagers:',
    `    - static_configs: [{targets: ['${alertmanager}']}]`,
    'scrape_configs:',
    '  - job_name: faasbench-gateways',
    `    static_configs: [{targets: [${targets.map((t) => `'${t}'`).join(', ')}]}]`,
    '',
  ].join('\n');
}

export function rulesConfig(p: AlertParams): string {
  return [
    'groups:',
    '  - name: faasbench-scaling',
    '    rules:',
    `      - alert: ${ALERT_NAME}`,
    `        expr: ${JSON.stringify(p.expr)}`,
    `        for: ${seconds(p.forMs)}`,
    '        labels: {service: gateway, severity: major}',
    '',
  ].join('\n');
}

export function alertmanagerConfig(webhookUrl: string, p: AlertParams): string {
  return [
    'route:',
    '  group_by: [alertname]',
    `  group_wait: ${seconds(p.groupWaitMs)}`,
    `  group_interval: ${seconds(p.groupIntervalMs)}`,
    `  repeat_interval: ${seconds(p.repeatIntervalMs)}`,
    '  receiver: scaler',
    'receivers:',
    '  - name: scaler',
    `    webhook_configs: [{url: '${webhookUrl}', send_resolved: true}]`,
    '',
  ].join('\n');
}

function startProcess(binary: string, args: string[]): { proc: ChildProcess; log: () => string; stop: () => Promise<void> } {
  const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const kill = () => alive() && process.kill(proc.pid!, 'SIGKILL');
  process.once('exit', kill);
  return {
    proc,
    log: () => log,
    async stop() {
      if (alive()) {
        const exited = new Promise((r) => proc.once('exit', r));
        process.kill(proc.pid!, 'SIGTERM');
        const hard = setTimeout(kill, 10_000);
        await exited;
        clearTimeout(hard);
      }
      process.off('exit', kill);
    },
  };
}

async function ready(url: string, what: string, log: () => string, exited: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`${what} exited: ${log().slice(-500)}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms: ${log().slice(-500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Alertmanager (to `webhookUrl`) and Prometheus (scraping `targets`, host:port of /metrics) and waits until both are ready. */
export async function startAlerting(
  binaries: { prometheus: string; alertmanager: string },
  targets: string[],
  webhookUrl: string,
  p: AlertParams,
): Promise<AlertingStack> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-alerting-'));
  const [amPort, promPort] = [await freePort(), await freePort()];
  const am = `127.0.0.1:${amPort}`;
  await writeFile(join(dir, 'alertmanager.yml'), alertmanagerConfig(webhookUrl, p));
  await writeFile(join(dir, 'prometheus.yml'), prometheusConfig(targets, am, p));
  await writeFile(join(dir, 'rules.yml'), rulesConfig(p));
  const started: Array<ReturnType<typeof startProcess>> = [];
  const stop = async () => {
    await Promise.all(started.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const alertmanager = startProcess(binaries.alertmanager, [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'alertmanager')}`,
      `--web.listen-address=${am}`,
      // No high-availability peers: one Alertmanager, no gossip port.
      '--cluster.listen-address=',
    ]);
    started.push(alertmanager);
    const prometheus = startProcess(binaries.prometheus, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    started.push(prometheus);
    const exited = (s: ReturnType<typeof startProcess>) => () => s.proc.exitCode !== null || s.proc.signalCode !== null;
    await ready(`http://${am}`, 'alertmanager', alertmanager.log, exited(alertmanager));
    await ready(`http://127.0.0.1:${promPort}`, 'prometheus', prometheus.log, exited(prometheus));
  } catch (err) {
    await stop();
    throw err;
  }
  return { prometheusUrl: `http://127.0.0.1:${promPort}`, alertmanagerUrl: `http://${am}`, stop };
}
