/**
 * Test support for the metrics: a parser of the Prometheus text exposition,
 * promtool, and a real Prometheus server on loopback (Debian's `prometheus`
 * package), each killed by PID.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './processes.js';
import { freePort } from '../contract/addresses.js';

/** The repository's docker/ directory. */
export const DOCKER = new URL('../../../docker/', import.meta.url);

/** Every PromQL expression of docker/'s Grafana dashboard. */
export async function dashboardExpressions(): Promise<string[]> {
  const dashboard = JSON.parse(await readFile(new URL('grafana/dashboards/faasbench.json', DOCKER), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line of an exposition (comments skipped). */
export function parseExposition(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none. */
export function sampleValue(samples: PromSample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/**
 * A Debian tool a test needs: its path, or the reason to skip. Missing
 * under CI is a failure (.ci/run installs it), elsewhere a skip with the reason.
 */
export function requireTool(name: string): { path: string } | { skip: string } {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status === 0 && path) return { path };
  if (process.env.CI) throw new Error(`${name} is missing (Debian package prometheus; .ci/run installs it)`);
  return { skip: `${name} is not installed (apt-get install prometheus)` };
}

/** promtool check metrics on an exposition: its exit code and what it said. */
export function promtoolCheck(promtool: string, exposition: string): { status: number | null; output: string } {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface PrometheusServer {
  url: string;
  /** A PromQL instant query through the HTTP API: its result vector. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

/** A real Prometheus on 127.0.0.1 scraping `targets` (job → host:port) every second, with its own temporary storage. */
export async function startPrometheus(binary: string, targets: Record<string, string>): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-prometheus-'));
  const jobs = Object.entries(targets)
    .map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`)
    .join('');
  await writeFile(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}`);
  const port = await freePort();
  const proc = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const kill = () => proc.exitCode === null && proc.signalCode === null && process.kill(proc.pid!, 'SIGKILL');
  process.once('exit', kill);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid!, 'SIGTERM');
      const hard = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(hard);
    }
    process.off('exit', kill);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, 120_000, `prometheus ready (${log.slice(-500)})`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: [] } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data.result;
    },
    stop,
  };
}
