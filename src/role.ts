/**
 * A server role's life, one path for the gateway, the TCP front and the
 * worker: its record sink, its metrics (loaded only when served), its
 * saturation sampler, its kernel tracer (with --kernel-stamps), the
 * "listening" line, the collection of dead Buffers left standing (reclaim.ts),
 * and an orderly close (sampler, metrics, the role's
 * server, the tracer, records last so that nothing is lost); then signals
 * and start-up errors.
 */
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from './log.js';
import { isLoopback } from './contract/addresses.js';
import type { MetricsServer } from './metrics/server.js';
import { openRecordSink, type RecordSink } from './trace/record-writer.js';
import { sampleRecordFormatter, type SampledRole } from './trace/records.js';
import { DEFAULT_SAMPLE_INTERVAL_MS, Sampler, type Sample } from './trace/sampler.js';
import { UsageError } from './usage-error.js';
import type { WatchShape } from './kernel/checks.js';
import type { KernelWatch } from './kernel/script.js';
import { kernelStampsReady, startTracer } from './kernel/start.js';
import { raiseMallocThresholds } from './malloc.js';
import { reclaimDeadBuffers } from './reclaim.js';

/** What a role's metrics offer the shared path (GatewayMetrics and WorkerMetrics). */
export interface RoleMetrics {
  readonly registry: Registry;
  onSample(sample: Sample): void;
}

export interface RoleOptions<M extends RoleMetrics> {
  role: SampledRole;
  /** The record file; none: no records, no samples (unless metrics are on). */
  log?: string;
  /** Fixed fields of every sample line (the gateway's framework). */
  sampleFields?: Record<string, string>;
  sampleIntervalMs?: number;
  /** Serve Prometheus metrics on this port (0: any free one); off when undefined. */
  metricsPort?: number;
  metricsHost?: string;
  /** /metrics answers only requests with this bearer token; none when unset. */
  metricsToken?: string;
  /** Builds the role's metrics; called (and prom-client loaded) only when metrics are on. */
  metrics?: () => Promise<M>;
  /** Kernel stamps: what the role's sockets will be; checked now, traced once the role serves. */
  kernel?: Omit<WatchShape, 'role'>;
  logger: Logger;
}

export interface ServeOptions {
  /** The role's own gauges for each sample (calls in flight, connections). */
  gauges: () => Record<string, number>;
  /** The "listening" log line's fields and message. */
  announce: Record<string, unknown>;
  message: string;
  /** Closes the role's own server and what it holds, before the records are flushed. */
  close: () => Promise<void>;
  /** With kernel stamps: the role's sockets to trace, now that its ports are known. */
  watch?: Pick<KernelWatch, 'serve' | 'dial' | 'dialled'>;
}

export interface Role<M> {
  sink: RecordSink | null;
  metrics: M | null;
  /** Once the role's server listens: metrics server, sampler, the log line. */
  serve(o: ServeOptions): Promise<RunningRole>;
}

export interface RunningRole {
  metricsUrl: string | null;
  close(): Promise<void>;
}

export async function openRole<M extends RoleMetrics>(o: RoleOptions<M>): Promise<Role<M>> {
  raiseMallocThresholds();
  // Refused before anything is opened: one line naming what is missing.
  const bpftrace = o.kernel ? await kernelStampsReady({ role: o.role, ...o.kernel }, o.log) : null;
  const sink = o.log ? openRecordSink(o.log) : null;
  let metrics: M | null = null;
  try {
    metrics = o.metricsPort === undefined || !o.metrics ? null : await o.metrics();
  } catch (err) {
    await sink?.close();
    throw err;
  }
  return {
    sink,
    metrics,
    async serve(s) {
      let metricsServer: MetricsServer | null = null;
      if (metrics) {
        const { startMetricsServer } = await import('./metrics/server.js');
        const host = o.metricsHost ?? '127.0.0.1';
        metricsServer = await startMetricsServer(metrics.registry, host, o.metricsPort!, o.metricsToken);
        if (!o.metricsToken && !(await isLoopback(host).catch(() => false))) {
          o.logger.warn(
            { metricsHost: host },
            `metrics on ${host} beyond loopback without a token: anyone who can reach the port can read them; set --metrics-token (or $FAASBENCH_METRICS_TOKEN)`,
          );
        }
      }
      const interval = o.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
      const format = sampleRecordFormatter(o.role, o.sampleFields);
      const sampler =
        (sink || metrics) && interval > 0
          ? new Sampler({
              intervalMs: interval,
              gauges: s.gauges,
              onSample: (sample) => {
                sink?.write(format(sample));
                metrics?.onSample(sample);
              },
            }).start()
          : null;
      // The metrics server's connections are the role's own but no link of a request.
      const otherServers = metricsServer ? [Number(new URL(metricsServer.url).port)] : [];
      const tracer = bpftrace && sink && s.watch ? await startTracer(bpftrace, o.role, { ...s.watch, otherServers }, sink) : null;
      const metricsUrl = metricsServer?.url ?? null;
      const stopReclaim = reclaimDeadBuffers(o.logger);
      o.logger.info({ ...s.announce, records: o.log ?? null, metrics: metricsUrl }, s.message);
      return {
        metricsUrl,
        async close() {
          stopReclaim();
          sampler?.stop();
          await metricsServer?.close();
          await s.close();
          await tracer?.stop();
          await sink?.close();
        },
      };
    },
  };
}

/** Set by a parent (faasbench run, the tests) that holds our stdin open: when it closes, the parent is gone. */
export const EXIT_WITH_PARENT_ENV = 'FAASBENCH_EXIT_WITH_PARENT';

/** How long a role may take to close after SIGINT/SIGTERM before it exits 1 anyway. */
export const CLOSE_GUARD_MS = 15_000;

/**
 * Keeps a server role running until SIGINT or SIGTERM, then closes it (which
 * flushes its records) and exits. A second signal exits at once. Started by a
 * parent that sets FAASBENCH_EXIT_WITH_PARENT=1, it also stops when its stdin
 * closes: a parent killed with SIGKILL cannot stop its children, but the
 * kernel closes the pipe, so no server outlives the run that started it.
 */
export function closeOnSignal(close: () => Promise<void>, logger: Logger): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    logger.info({ signal }, 'shutting down');
    // A hang guard, not a deadline: a kernel tracer alone may take 5 s to detach on a loaded machine, then its output is moved.
    const force = setTimeout(() => process.exit(1), CLOSE_GUARD_MS);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.env[EXIT_WITH_PARENT_ENV] === '1') {
    process.stdin.once('close', () => stop('SIGHUP'));
    process.stdin.resume();
  }
}

/**
 * Starts a role; a failure the user's flags caused (address in use, unknown
 * host, a record file that cannot be opened) becomes a UsageError: one line
 * and exit 2. Node's system errors carry `syscall`, which tells them from bugs.
 */
export async function startOrExplain<T>(role: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.syscall === 'string') throw new UsageError(`cannot start the ${role}: ${e.message}`);
    throw err;
  }
}

/**
 * A server role as its command runs it: a logger of its own, started (a
 * failure the flags caused is one line and exit 2), then served until a
 * signal closes it.
 */
export async function serveRole(role: string, start: (logger: Logger) => Promise<{ close(): Promise<void> }>): Promise<void> {
  const logger = createLogger(role);
  const running = await startOrExplain(role, () => start(logger));
  closeOnSignal(() => running.close(), logger);
}
