/**
 * runCaller(): the caller's programmatic API; `faasbench caller` is a thin
 * layer over it. Drives the load (load-loop.ts), writes one record per
 * request, and returns the figures of the measured window.
 */
import { now } from '../trace/clock.js';
import { openRecordSink, type RecordSink } from '../trace/record-writer.js';
import { formatClockRecord, formatGatewayRecord, sampleRecordFormatter, workerStampsOf } from '../trace/records.js';
import { recordNameOf } from '../contract/endpoints.js';
import { Sampler } from '../trace/sampler.js';
import { LoadLoop, type LoopTimes } from './load-loop.js';
import type { Stats } from '../stats/percentiles.js';
import { DEFAULTS, resolveOptions, type CallerOptions, type CallerProgress, type ResolvedOptions } from './options.js';
import { callerRecordFormatter } from '../trace/records.js';
import { SelfCheck, type BottleneckInfo } from './self-check.js';
import { IntervalTally, Tally } from './tally.js';
import { judgeThresholds, type ThresholdVerdict } from './thresholds.js';
import type { TcpCall } from './tcp-connection.js';

export interface CallerResult {
  url: string;
  method: string;
  label: string | null;
  mode: 'closed' | 'open';
  connections: number;
  /** Open loop: the target rate, req/s. */
  rate: number | null;
  /** Measured requests (sent after the warm-up), failures included. */
  requests: number;
  /** Of those, the ones answered with a status (any status). */
  responses: number;
  statusCounts: Record<string, number>;
  /**
   * Failed measured requests by class: socket errors ("timeout",
   * "econnrefused", "econnreset", ...) and answers outside 2xx by status
   * class ("status_4xx", "status_5xx", ...).
   */
  errors: Record<string, number>;
  errorCount: number;
  /** errorCount / requests; 0 when nothing was measured. */
  errorRate: number;
  /** One verdict per threshold given, in order; all ok means the run passed. */
  thresholds: ThresholdVerdict[];
  warmupRequests: number;
  /** The measured window: from the end of the warm-up to the end of sending (duration) or the last answer (request count). */
  window: { startNs: string; endNs: string; seconds: number; warmupSeconds: number };
  /** Responses completed inside the window, per second. */
  throughput: number;
  /** Of answered measured requests (any status), from t0 (closed loop) or t0_intended (open loop). */
  latencyUs: Stats;
  latencyFrom: 't0' | 't0_intended';
  /** Open loop only: sends later than lateThresholdMs after their due time. */
  lateSends: number | null;
  lateThresholdMs: number | null;
  /** Open loop only: due before the end but never sent (no free connection). */
  unsent: number | null;
  /** Open loop only: t0 - t0_intended of measured sends. */
  sendLagUs: { p50: number; p99: number; max: number } | null;
  bottleneck: BottleneckInfo;
  aborted: boolean;
  /** The records file, if any, and how many lines this run appended to it. */
  out: string | null;
  records: number;
}

export async function runCaller(options: CallerOptions): Promise<CallerResult> {
  const o = resolveOptions(options);
  const tally = new Tally();
  const selfCheck = new SelfCheck();
  const sink = o.out ? openRecordSink(o.out) : null;
  // performance.timeOrigin + now(): wall time with sub-ms resolution, read right beside the monotonic stamp.
  sink?.write(formatClockRecord('caller', now(), performance.timeOrigin + performance.now()));
  if (o.tcp && sink) recordDirectReplies(o, o.tcp, sink);
  const format = callerRecordFormatter({ method: o.method, path: o.path, connections: o.connections, label: o.label });
  let records = 0;
  const loop = new LoadLoop(o, (outcome) => {
    if (sink !== null) {
      sink.write(format(outcome));
      records++;
    }
    tally.add(outcome);
  });
  const formatSample = sampleRecordFormatter('caller', { label: o.label });
  const sampler = new Sampler({
    intervalMs: options.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs,
    gauges: () => ({ inflight: loop.inFlight }),
    onSample: (sample) => {
      selfCheck.add(sample);
      sink?.write(formatSample(sample));
    },
  });

  let progressTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const t = now();
    if (tally.windowEndLimit === null || t < tally.windowEndLimit) tally.windowEndLimit = t;
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const onStart = () => {
    tally.windowStart = loop.warmupEndNs;
    tally.windowEndLimit = loop.plannedStopNs;
    // The self-check covers the measured window only, like the figures.
    selfCheck.start(loop.warmupEndNs);
    sampler.start();
    if (options.onProgress) progressTimer = startProgress(options.onProgress, options.progressIntervalMs, o, loop, tally);
  };
  let times;
  try {
    times = await loop.run(options.signal, onStart);
  } finally {
    clearInterval(progressTimer);
    sampler.stop();
    options.signal?.removeEventListener('abort', onAbort);
    await sink?.close();
  }
  const bottleneck = selfCheck.stop();
  const result = resultOf(o, loop, times, tally, bottleneck, records);
  tally.latency.destroy();
  tally.interval?.latency.destroy();
  loop.sendLag.destroy();
  return result;
}

/**
 * Direct mode (tcp:// to a worker): no front, so the caller stands in for
 * one that takes no time (t1 = t2 = t0, t4 = t5 = t6): the records join with
 * the worker's, and the RPC link holds everything between the caller and the
 * worker.
 */
function recordDirectReplies(o: ResolvedOptions, tcp: TcpCall, sink: RecordSink): void {
  const fn = recordNameOf(tcp.fn, tcp.args);
  tcp.onDirectReply = (id, t0, t6, status, reply, worker) =>
    sink.write(
      formatGatewayRecord({
        id,
        framework: 'direct',
        fn,
        status,
        error: reply.err?.code ?? null,
        t1: t0,
        t2: t0,
        t4: t6,
        t5: t6,
        worker: workerStampsOf(reply),
        workerAddress: worker,
        // No balancer: each connection keeps the worker it was given (the URLs in turn).
        balance: 'none',
        workers: o.targets.length,
      }),
    );
}

/** Reports the run's progress every interval (about a second) from the start of the warm-up. */
function startProgress(
  onProgress: (p: CallerProgress) => void,
  intervalMs: number | undefined,
  o: ResolvedOptions,
  loop: LoadLoop,
  tally: Tally,
): NodeJS.Timeout {
  const plannedMs = o.durationMs === null ? null : o.warmupMs + o.durationMs;
  const interval = (tally.interval = new IntervalTally());
  let intervalStart = loop.startNs;
  const tick = () => {
    const t = now();
    const latency = interval.latency.summary();
    const answered = latency.count > 0;
    onProgress({
      // The phase the interval began in: the first second of a 1 s warm-up is warm-up.
      phase: !loop.sending ? 'drain' : intervalStart < loop.warmupEndNs ? 'warmup' : 'measure',
      elapsedMs: Number(t - loop.startNs) / 1e6,
      plannedMs,
      completed: tally.completed,
      errors: tally.failed,
      inFlight: loop.inFlight,
      interval: {
        seconds: Number(t - intervalStart) / 1e9,
        completed: interval.completed,
        errors: interval.errors,
        p50Us: answered ? latency.p50 : null,
        p99Us: answered ? latency.p99 : null,
      },
    });
    interval.reset();
    intervalStart = t;
  };
  return setInterval(tick, intervalMs ?? DEFAULTS.progressIntervalMs);
}

/**
 * The measured window: from the end of the warm-up to the planned end of
 * sending (or the abort, if earlier), or, in request-count mode, to the last
 * measured answer.
 */
function measuredWindow(loop: LoadLoop, times: LoopTimes, tally: Tally): { start: bigint; end: bigint } {
  const start = times.warmupEndNs;
  let end: bigint;
  if (loop.plannedStopNs !== null) end = times.aborted && times.stopNs < loop.plannedStopNs ? times.stopNs : loop.plannedStopNs;
  else end = tally.lastMeasuredT6 ?? times.stopNs;
  return { start, end: end < start ? start : end };
}

/** The figures of the measured window, from the tally and the loop once sending is over. */
function resultOf(
  o: ResolvedOptions,
  loop: LoadLoop,
  times: LoopTimes,
  tally: Tally,
  bottleneck: BottleneckInfo,
  records: number,
): CallerResult {
  const window = measuredWindow(loop, times, tally);
  const seconds = Number(window.end - window.start) / 1e9;
  const open = o.rate !== null;
  const lag = loop.sendLag.summary();
  const errorCount = Object.values(tally.errors).reduce((a, b) => a + b, 0);
  const latencyUs = tally.latency.summary();
  return {
    url: o.url.href,
    method: o.method,
    label: o.label ?? null,
    mode: open ? 'open' : 'closed',
    connections: o.connections,
    rate: o.rate,
    requests: tally.measuredRequests,
    responses: tally.measuredResponses,
    statusCounts: tally.statusCounts,
    errors: tally.errors,
    errorCount,
    errorRate: tally.measuredRequests > 0 ? errorCount / tally.measuredRequests : 0,
    thresholds: judgeThresholds(o.thresholds, { requests: tally.measuredRequests, errorCount, latencyUs }),
    warmupRequests: tally.warmupRequests,
    window: {
      startNs: window.start.toString(),
      endNs: window.end.toString(),
      seconds,
      warmupSeconds: Number(times.warmupEndNs - times.startNs) / 1e9,
    },
    throughput: seconds > 0 ? tally.windowResponses / seconds : 0,
    latencyUs,
    latencyFrom: open ? 't0_intended' : 't0',
    lateSends: open ? loop.lateSends : null,
    lateThresholdMs: open ? o.lateThresholdMs : null,
    unsent: open ? loop.unsent : null,
    sendLagUs: open ? { p50: lag.p50, p99: lag.p99, max: lag.max } : null,
    bottleneck,
    aborted: times.aborted,
    out: o.out ?? null,
    records,
  };
}
