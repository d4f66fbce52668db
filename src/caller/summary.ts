/** Renders results as text tables. Printing is kept apart from producing: runCaller() never prints. */
import { MIN_JUDGED_MS } from './self-check.js';
import type { CallerResult } from './run-caller.js';
import type { SweepRow } from './sweep.js';
import { describeVerdict } from './thresholds.js';
import { describeArrivalCheck } from './arrival-check.js';
import type { PercentileInterval } from '../stats/quantile-interval.js';
import type { SteadyState } from '../stats/steady-state.js';

function describeIndependence(r: CallerResult): string {
  const d = r.independence;
  if (!d.judged) return 'too few answers to tell how correlated they were';
  const lag = d.lag === null ? 'still correlated at the largest lag read' : `independent from lag ${d.lag}`;
  return `successive latencies ${lag} (lag-1 ρ ${d.lag1.toFixed(2)}): intervals on n_eff ${Math.round(d.nEff)} of ${r.latencyUs.count}`;
}

export function describeSteadiness(s: SteadyState): string {
  if (s.steady === null) return 'steady      too few answers to judge';
  const detail = `${s.batches} batches of ${s.batchSize}`;
  return s.steady ? `steady      yes: no trend, level shift or warm-up transient (${detail})` : `NOT STEADY  ${s.reasons.join('; ')} (${detail})`;
}

function table(rows: string[][], indent = ''): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => indent + r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
    .join('\n');
}

const us = (x: number) => x.toFixed(1);
const percent = (x: number) => `${+(x * 100).toFixed(2)}%`;
const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');

export function formatSummary(r: CallerResult): string {
  const lines: string[] = [];
  const model = r.mode === 'open' ? `open loop at ${r.rate} req/s over ${r.connections} connections` : `closed loop, ${r.connections} connections`;
  lines.push(`${r.method} ${r.url}  ${model}${r.label === null ? '' : `  [${r.label}]`}${r.aborted ? '  (stopped early)' : ''}`);
  lines.push(
    `window      ${r.window.seconds.toFixed(3)} s measured after ${r.window.warmupSeconds.toFixed(3)} s warm-up ` +
      `(monotonic ns ${r.window.startNs}..${r.window.endNs})`,
  );
  lines.push(
    `requests    ${r.requests} measured (+${r.warmupRequests} warm-up), ${r.responses} answered, ` +
      `${r.errorCount} failed (${percent(r.errorRate)})`,
  );
  lines.push(`throughput  ${r.throughput.toFixed(1)} req/s`);
  const l = r.latencyUs;
  const head = [`latency (µs, from ${r.latencyFrom})`, 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'];
  const values = l.count === 0 ? ['', ...Array(7).fill('-')] : ['', ...[l.min, l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean].map(us)];
  const ci = r.latencyCiUs;
  const interval = (i: PercentileInterval | null) => (i === null ? 'n/a' : `${us(i.low)}–${us(i.high)}`);
  const intervals = l.count === 0 ? [] : [['95% interval', '', interval(ci.p50), interval(ci.p90), interval(ci.p99), interval(ci.p99_9), '', '']];
  lines.push(table([head, values, ...intervals]));
  lines.push(`            ${describeIndependence(r)}`);
  lines.push(describeSteadiness(r.steadyState));
  if (Object.keys(r.statusCounts).length > 0) lines.push(`status      ${counts(r.statusCounts)}`);
  if (r.errorCount > 0) lines.push(`errors      ${counts(r.errors)}`);
  for (const [i, v] of r.thresholds.entries()) {
    lines.push(`${i === 0 ? 'thresholds' : ''}`.padEnd(12) + `${v.ok ? 'ok    ' : 'FAILED'}  ${describeVerdict(v)}`);
  }
  if (r.mode === 'open' && r.sendLagUs !== null) {
    lines.push(
      `schedule    ${r.lateSends} late sends (> ${r.lateThresholdMs} ms after due), ${r.unsent} unsent; ` +
        `send lag p50 ${us(r.sendLagUs.p50)} µs, p99 ${us(r.sendLagUs.p99)} µs, max ${us(r.sendLagUs.max)} µs`,
    );
  }
  if (r.arrivals !== null) lines.push(`${r.arrivals.verdict === 'ok' ? 'arrivals' : r.arrivals.verdict === 'warn' ? 'WARNING' : 'FAILED'}`.padEnd(12) + describeArrivalCheck(r.arrivals));
  if (r.precision !== null) {
    const p = r.precision;
    const got = p.achieved === null ? 'no interval yet' : `±${(p.achieved * 100).toFixed(1)}%`;
    lines.push(
      `precision   p${p.percentile} within ±${+(p.precision * 100).toFixed(2)}%: ` +
        (p.reached ? `reached after ${p.atSeconds!.toFixed(2)} s (${got})` : `NOT reached by the end of the window (${got})`),
    );
  }
  if (r.probe !== null) {
    const p = r.probe;
    const ms = (x: number) => (x / 1000).toFixed(3);
    lines.push(
      `probe       ${p.rate} req/s on ${p.connections} connections of its own to ${p.url}: ${p.requests} measured, ${p.errorCount} failed; ` +
        (p.responses === 0 ? 'no answers' : `p50 ${ms(p.latencyUs.p50)} ms [${interval(p.latencyCiUs.p50)} µs], p99 ${ms(p.latencyUs.p99)} ms`),
    );
    lines.push(`            ${p.agreement.summary} (p50: ${p.agreement.p50}, p99: ${p.agreement.p99})`);
  }
  const b = r.bottleneck;
  const check =
    b.samples === 0
      ? 'no full sample in the window'
      : `event loop busy ${b.eventLoopUtilizationPercent}%, delay p99 ${b.eventLoopDelayP99Ms} ms, CPU ${b.cpuPercent}% of one core over ${b.sampledSeconds} s`;
  const verdict = b.sampledSeconds * 1000 < MIN_JUDGED_MS ? 'too short to judge' : 'ok';
  lines.push(b.flagged ? `WARNING     ${b.reason} (${check})` : `self-check  ${check}: ${verdict}`);
  if (r.out !== null) lines.push(`records     ${r.records} lines appended to ${r.out}`);
  return lines.join('\n') + '\n';
}

export function formatSweep(rows: readonly SweepRow[]): string {
  const judged = rows.some((r) => r.result.thresholds.length > 0);
  const head = ['connections', 'throughput (req/s)', 'p50 (µs)', 'p99 (µs)', 'requests', 'errors', 'caller-bound', ...(judged ? ['thresholds'] : [])];
  const body = rows.map((r) => [
    String(r.connections),
    r.throughput.toFixed(1),
    us(r.p50),
    us(r.p99),
    String(r.requests),
    String(r.errors),
    r.bottleneck ? 'YES' : 'no',
    ...(judged ? [r.result.thresholds.every((v) => v.ok) ? 'ok' : 'FAILED'] : []),
  ]);
  return table([head, ...body]) + '\n';
}

/**
 * `--json`: the result in summary.json's vocabulary (docs/measurement.md,
 * "One vocabulary"): snake_case keys, `requests_per_s` for throughput, `_us`,
 * `_ms`, `_ns` where the unit is not otherwise said. Keys of the status and
 * error tallies are data, not names, and stay as they are.
 */
export function resultJson(r: CallerResult): unknown {
  return snakeKeys(r);
}

/** A sweep's rows, named as summary.json's `sweep` points are. */
export function sweepJson(rows: readonly SweepRow[]): unknown {
  return rows.map((r) => ({
    connections: r.connections,
    requests_per_s: r.throughput,
    p50_us: r.p50,
    p99_us: r.p99,
    requests: r.requests,
    errors: r.errors,
    caller_bound: r.bottleneck,
    result: resultJson(r.result),
  }));
}

const RENAMED: Record<string, string> = { throughput: 'requests_per_s' };
/** Maps whose keys are values (statuses, error classes). */
const DATA_KEYS = new Set(['statusCounts', 'errors']);

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      RENAMED[k] ?? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      DATA_KEYS.has(k) ? v : snakeKeys(v),
    ]),
  );
}
