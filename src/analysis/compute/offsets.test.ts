import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DURATIONS, DEFAULT_HOSTS, HOURS, requestLines, type Hosts, type RecordLines, type RequestSpec } from '../../testing/analysis-records.js';
import { Ingest } from '../read/ingest.js';
import { fmtNs } from './format.js';
import { estimateOffsets, type ClockOffset } from './offsets.js';
import { RequestTable } from '../read/table.js';
import { stampOrderWarnings } from './warnings.js';

function offsetsOf(records: RecordLines[]): ClockOffset[] {
  const table = new RequestTable(16);
  const ingest = new Ingest(table);
  for (const r of records) for (const line of [r.caller, r.gateway, r.worker]) ingest.line(line, 'test', 1);
  return estimateOffsets(table.sealed());
}

const pair = (offsets: ClockOffset[], clocks: ClockOffset['clocks']) => {
  const found = offsets.filter((o) => o.clocks === clocks);
  assert.equal(found.length, 1, clocks);
  return found[0]!;
};

function many(n: number, hosts: Hosts, d: (k: number) => RequestSpec['d'] = () => ({})): RecordLines[] {
  return Array.from({ length: n }, (_, k) => requestLines({ id: `o${k}`, at: BigInt(k) * 2_000_000n, d: d(k) }, hosts));
}

test('offsets of hours: symmetric links give exactly worker − gateway and gateway − caller, with their signs', () => {
  const hosts: Hosts = { ...DEFAULT_HOSTS, workerBase: DEFAULT_HOSTS.gatewayBase + 3n * HOURS + 123_456_789n, callerBase: DEFAULT_HOSTS.gatewayBase + 5n * HOURS };
  // Each request's legs are equal both ways, but differ from request to request.
  const records = many(200, hosts, (k) => {
    const rpc = 10_000n + BigInt(k) * 37n;
    const net = 50_000n + BigInt(k) * 91n;
    return { rpc_out: rpc, rpc_back: rpc, net_in: net, net_out: net };
  });
  const offsets = offsetsOf(records);
  const worker = pair(offsets, 'worker − gateway');
  assert.equal(worker.host, hosts.worker);
  assert.equal(worker.reference_host, hosts.gateway);
  assert.equal(worker.n, 200);
  assert.equal(worker.median_ns, 3 * 3.6e12 + 123_456_789);
  assert.equal(worker.p5_ns, worker.p95_ns, 'no spread when every exchange is symmetric');
  assert.equal(worker.at_min_rtt_ns, worker.median_ns);
  assert.equal(worker.min_rtt_ns, 20_000);
  const caller = pair(offsets, 'gateway − caller');
  assert.equal(caller.median_ns, -5 * 3.6e12, 'gateway − caller: the caller is 5 h ahead');
  assert.equal(caller.same_host, false);
  assert.equal(caller.negative_link.count, 0);
  for (const o of offsets) {
    assert.ok(o.lower_bound_ns <= o.median_ns && o.median_ns <= o.upper_bound_ns, `${o.clocks}: bounds hold the offset`);
    assert.deepEqual(stampOrderWarnings(o), []);
  }
});

test('asymmetric links: the estimate is off by half the asymmetry, the causality bounds still hold the true offset, spread is reported', () => {
  const truth = 2n * HOURS + 999n;
  const hosts: Hosts = { ...DEFAULT_HOSTS, workerBase: DEFAULT_HOSTS.gatewayBase + truth };
  const records = many(101, hosts, (k) => ({ rpc_out: 10_000n + BigInt(k) * 100n, rpc_back: 10_000n }));
  const o = pair(offsetsOf(records), 'worker − gateway');
  // Request k: out leg longer by 100k ns, so its estimate is truth + 50k; median k = 50.
  assert.equal(o.median_ns, Number(truth) + 50 * 50);
  assert.equal(o.p95_ns - o.p5_ns, 50 * 90);
  assert.ok(o.lower_bound_ns <= Number(truth) && Number(truth) <= o.upper_bound_ns);
  assert.equal(o.upper_bound_ns, Number(truth) + 10_000, 'tightest upper bound: the shortest out leg');
  assert.equal(o.lower_bound_ns, Number(truth) - 10_000);
});

const SAME: Hosts = { ...DEFAULT_HOSTS, caller: 'vm', gateway: 'vm', worker: 'vm', callerBase: 1_000n, gatewayBase: 1_000n, workerBase: 1_000n };

test('one host, t5 stamped after the caller had the response: counted, measured, and not blamed on drift', () => {
  // Every fourth request: the gateway's t5 lands 100 µs + k ns after the caller's t6 (t5 − t4 grows, t6 stays).
  const records = many(100, SAME, (k) =>
    k % 4 === 0 ? { respond: DEFAULT_DURATIONS.respond + DEFAULT_DURATIONS.net_out + 100_000n + BigInt(k), net_out: -(100_000n + BigInt(k)) } : {},
  );
  const o = pair(offsetsOf(records), 'gateway − caller');
  assert.equal(o.same_host, true);
  assert.equal(o.reply_stamp_after_receipt?.count, 25);
  assert.equal(o.reply_stamp_after_receipt?.max_ns, 100_096);
  assert.equal(o.reply_stamp_after_receipt?.median_ns, 100_048, 'nearest rank 13 of 25: k = 48');
  assert.equal(o.arrival_stamp_before_send?.count, 0);
  // The lag exceeds net_in (70 µs): caller link = net_in − lag < 0, and the bounds contradict by max lag − net_in.
  assert.equal(o.negative_link.count, 25);
  assert.equal(o.lower_bound_ns - o.upper_bound_ns, 100_096 - Number(DEFAULT_DURATIONS.net_in));
  const warnings = stampOrderWarnings(o);
  assert.equal(warnings.length, 1);
  const text = warnings[0]!;
  assert.match(text, /share host "vm"/);
  assert.match(text, /not drift/);
  assert.match(text, /25 of 100 requests \(25\.0%\)/);
  assert.match(text, /stamped t5/);
  assert.match(text, /100\.1 µs at most/);
  assert.match(text, /negative in 25 requests/);
  assert.match(text, /contradict each other by 30\.1 µs/);
  assert.doesNotMatch(text, /drifted|stamp is wrong/);
  const worker = pair(offsetsOf(records), 'worker − gateway');
  assert.deepEqual(stampOrderWarnings(worker), []);
});

test('between two hosts, a negative caller link is named a late stamp, not drift', () => {
  const hosts: Hosts = { ...DEFAULT_HOSTS, callerBase: DEFAULT_HOSTS.gatewayBase - 4n * HOURS };
  const lag = 200_000n; // far more than net_in + net_out
  const records = many(50, hosts, (k) => (k === 7 ? { respond: DEFAULT_DURATIONS.respond + DEFAULT_DURATIONS.net_out + lag, net_out: -lag } : {}));
  const o = pair(offsetsOf(records), 'gateway − caller');
  assert.equal(o.same_host, false);
  assert.equal(o.reply_stamp_after_receipt, null);
  assert.equal(o.negative_link.count, 1);
  // Caller link = net_in − lag: the gateway's span is longer than the caller's by lag − net_in.
  assert.equal(o.negative_link.max_ns, Number(lag - DEFAULT_DURATIONS.net_in));
  const [text, ...rest] = stampOrderWarnings(o);
  assert.equal(rest.length, 0);
  assert.match(text!, /1 of 50 requests/);
  assert.match(text!, /not clock offset or drift/);
});

test('bounds that contradict only across requests are drift', () => {
  // The worker's clock runs fast: 1 µs more offset per request, and every exchange is consistent on its own.
  const records: RecordLines[] = [];
  for (let k = 0; k < 100; k++) {
    const hosts: Hosts = { ...DEFAULT_HOSTS, workerBase: DEFAULT_HOSTS.workerBase + BigInt(k) * 1_000_000n };
    records.push(requestLines({ id: `d${k}`, at: BigInt(k) * 1_000_000n }, hosts));
  }
  const o = pair(offsetsOf(records), 'worker − gateway');
  assert.equal(o.negative_link.count, 0);
  assert.ok(o.lower_bound_ns > o.upper_bound_ns);
  assert.ok(o.drift_ppm !== null && o.drift_ppm > 900_000, `drift ${o.drift_ppm}`);
  const [text] = stampOrderWarnings(o);
  assert.match(text!, /offset changed during the run/);
});

test('offsets of hours are shown to the µs', () => {
  assert.equal(fmtNs(3 * 3.6e12 + 123_456_789), '+3 h 00 min 00.123457 s');
  assert.equal(fmtNs(-(888 * 3.6e12 + 61e9 + 5_000)), '−888 h 01 min 01.000005 s');
  assert.equal(fmtNs(33_049, false), '33.0 µs');
});
