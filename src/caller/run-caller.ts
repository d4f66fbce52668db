/**
 * runCaller(): the caller's programmatic API; `faasbench caller` is a thin
 * layer over it. Drives the load (load-loop.ts), writes one record per
 * request, and returns the figures of the measured window.
 */
import { now } from '../trace/clock.js';
import { raiseMallocThresholds } from '../malloc.js';
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
import { callerKernelReady, callerWatch } from './kernel-stamps.js';
import { startTracer } from '../kernel/start.js';
import type { TcpCall } from './tcp-connection.js';
import { GapSampler, type ArrivalCheck } from './arrival-check.js';
import { latencyFigures, type LatencyFigures } from './figures.js';
import { achievedPrecision, type PrecisionResult } from './precision.js';
import { probeOf, probeResult, type Probe, type ProbeResult } from './probe.js';
import { arrivalCheck, checkWhileRunning, WATCH_MS, type Watch } from './watch.js';

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
  /** Of answered measured requests (any status), from t0 (closed loop) or t0_intended (open loop); exact order statistics. */
  latencyUs: Stats;
  /** 95% intervals of p50 … p99.9 (µs), on the effective sample size; null where too few values bound one. */
  latencyCiUs: LatencyFigures['latencyCiUs'];
  /** How correlated successive latencies were: the lag at which they stop being, and the effective sample size. */
  independence: LatencyFigures['independence'];
  /** Trend, level shift and warm-up tests over the measured window. */
  steadyState: LatencyFigures['steadyState'];
  /** Open loop: what was sent against what was due (rate; Poisson gaps). */
  arrivals: ArrivalCheck | null;
  /** --probe-rate: the probe stream's figures beside the load's. */
  probe: ProbeResult | null;
  /** --until-ci: whether the precision was reached, and when. */
  precision: PrecisionResult | null;
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
  raiseMallocThresholds();
  const tally = new Tally();
  const selfCheck = new SelfCheck();
  // Refused before the record file is touched; started before the first connection opens.
  const bpftrace = options.kernelStamps === true ? await callerKernelReady(o.out) : null;
  const sink = o.out ? openRecordSink(o.out) : null;
  const tracer = bpftrace && sink ? await startTracer(bpftrace, 'caller', callerWatch(o.targets), sink) : null;
  // performance.timeOrigin + now(): wall time with sub-ms resolution, read right beside the monotonic stamp.
  sink?.write(formatClockRecord('caller', now(), performance.timeOrigin + performance.now()));
  if (o.tcp && sink) recordDirectReplies(o, o.tcp, sink);
  const format = callerRecordFormatter({ method: o.method, path: o.path, connections: o.connections, label: o.label });
  let records = 0;
  const gaps = o.arrival?.kind === 'poisson' ? new GapSampler() : null;
  const loop = new LoadLoop(
    o,
    (outcome) => {
      if (sink !== null) {
        sink.write(format(outcome));
        records++;
      }
      tally.add(outcome);
    },
    gaps === null ? undefined : (_intended, t0) => t0 >= loop.warmupEndNs && gaps.add(t0),
  );
  const probe = probeOf(o, options, (line) => {
    if (sink !== null) {
      sink.write(line);
      records++;
    }
  });
  const watch: Watch = { warned: false, stoppedEarly: false, reachedAt: null };
  let watchTimer: NodeJS.Timeout | undefined;
  const formatSample = sampleRecordFormatter('caller', { label: o.label });
  const sampler = new Sampler({
    intervalMs: options.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs,
    gauges: () => ({ inflight: loop.inFlight + (probe?.loop.inFlight ?? 0) }),
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
    watchTimer = setInterval(() => {
      if (!checkWhileRunning(o, loop, tally, watch, options.onWarning)) return;
      onAbort(); // the window ends now
      loop.stop();
    }, WATCH_MS);
  };
  let times;
  try {
    const probeRun = probe?.loop.run(options.signal);
    times = await loop.run(options.signal, onStart);
    probe?.loop.stop();
    await probeRun;
  } finally {
    clearInterval(progressTimer);
    clearInterval(watchTimer);
    sampler.stop();
    options.signal?.removeEventListener('abort', onAbort);
    await tracer?.stop();
    await sink?.close();
  }
  const bottleneck = selfCheck.stop();
  const result = resultOf(o, loop, times, tally, bottleneck, records, { gaps, probe, watch });
  tally.latency.destroy();
  tally.interval?.latency.destroy();
  loop.sendLag.destroy();
  if (probe !== null) {
    probe.tally.latency.destroy();
    probe.loop.sendLag.destroy();
  }
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
  tcp.onDirectReply = (id, t0, t6, status, reply, worker, conn) =>
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
        // The caller stands in for the front: the worker's reply arrived at the caller's socket.
        links: o.links ? { front: null, rpc: conn === null ? null : { conn, off: null } } : undefined,
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
  // Aborted, or ended early (--until-ci, the arrival check): the window ends where sending stopped.
  if (loop.plannedStopNs !== null) end = (times.aborted || times.stoppedEarly) && times.stopNs < loop.plannedStopNs ? times.stopNs : loop.plannedStopNs;
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
  checks: { gaps: GapSampler | null; probe: Probe | null; watch: Watch },
): CallerResult {
  const window = measuredWindow(loop, times, tally);
  const seconds = Number(window.end - window.start) / 1e9;
  const open = o.rate !== null;
  const lag = loop.sendLag.summary();
  const errorCount = Object.values(tally.errors).reduce((a, b) => a + b, 0);
  const figures = latencyFigures(tally.series, tally.latency);
  const latencyUs = figures.latencyUs;
  const { watch } = checks;
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
    latencyCiUs: figures.latencyCiUs,
    independence: figures.independence,
    steadyState: figures.steadyState,
    arrivals: open ? arrivalCheck(o, loop, window.end, seconds, checks.gaps, watch.stoppedEarly) : null,
    probe: checks.probe === null ? null : probeResult(checks.probe, figures),
    precision:
      o.untilCi === null
        ? null
        : { ...o.untilCi, reached: watch.reachedAt !== null, atSeconds: watch.reachedAt, achieved: achievedPrecision(tally, o.untilCi.percentile) },
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
