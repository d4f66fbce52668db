/**
 * The stage arithmetic of docs/measurement.md, as pure functions of one request's
 * stamps. Every formula subtracts stamps of ONE host only (caller, gateway or
 * worker), so the figures hold whatever the offset between the hosts' clocks.
 * Missing stamps are NaN and give NaN.
 *
 * The seven stages from gateway_in to caller_link add up exactly to the
 * roundtrip: (t2−t1) + [(t4−t2) − (t3s−t3r)] + (t3st−t3r) + (t3e−t3st)
 * + (t3s−t3e) + (t5−t4) + [(t6−t0) − (t5−t1)] = t6 − t0.
 */

export const gatewayIn = (t1: number, t2: number): number => t2 - t1;
export const rpcLink = (t2: number, t3Recv: number, t3Send: number, t4: number): number =>
  t4 - t2 - (t3Send - t3Recv);
export const workerQueue = (t3Recv: number, t3Start: number): number => t3Start - t3Recv;
export const functionTime = (t3Start: number, t3End: number): number => t3End - t3Start;
export const workerOut = (t3End: number, t3Send: number): number => t3Send - t3End;
export const respond = (t4: number, t5: number): number => t5 - t4;
export const callerLink = (t0: number, t1: number, t5: number, t6: number): number => t6 - t0 - (t5 - t1);
export const roundtrip = (t0: number, t6: number): number => t6 - t0;
/** Open loop: latency from when the request was due, so a stalled sender cannot hide stalls. */
export const roundtripIntended = (t0Intended: number, t6: number): number => t6 - t0Intended;
/** What a user waited: from the due time in open loop (t0_intended stamped), from the send in closed loop (wrk2's rule). */
export const latency = (t0: number, t0Intended: number, t6: number): number => (t0Intended === t0Intended ? t6 - t0Intended : t6 - t0);
/** The original report's Figure 7: the endpoint handler, step 1 received to step 5 sent. */
export const handler = (t1: number, t5: number): number => t5 - t1;
/** Its Figure 8: roundtrip minus handler, all the time outside the gateway's handler (numerically the caller link). */
export const delta = (t0: number, t1: number, t5: number, t6: number): number => t6 - t0 - (t5 - t1);

/**
 * The stages that partition the roundtrip, in the order the request meets them.
 * `roundtrip` and `roundtrip_intended` are totals, listed after, then the
 * original report's own two: `handler` (its Figure 7) and `delta` (Figure 8),
 * then `latency`: the roundtrip from the due time where the load was open loop.
 */
export const PARTS = ['gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond', 'caller_link'] as const;
export const TOTALS = ['roundtrip', 'roundtrip_intended', 'handler', 'delta', 'latency'] as const;
export const STAGES = [...PARTS, ...TOTALS] as const;
export type Part = (typeof PARTS)[number];
export type Stage = (typeof STAGES)[number];

/** Short names for legends and column heads. */
export const STAGE_NAMES: Record<Stage, string> = {
  gateway_in: 'gateway in',
  rpc_link: 'RPC link',
  worker_queue: 'worker queue',
  function: 'function',
  worker_out: 'worker out',
  respond: 'respond',
  caller_link: 'caller link',
  roundtrip: 'roundtrip',
  roundtrip_intended: 'roundtrip from due time',
  handler: 'handler',
  delta: 'delta',
  latency: 'latency',
};

/** Human names with their formulas. */
export const STAGE_LABELS: Record<Stage, string> = {
  gateway_in: 'gateway in (t2−t1)',
  rpc_link: 'RPC link ((t4−t2)−(t3_send−t3_recv))',
  worker_queue: 'worker queue (t3_start−t3_recv)',
  function: 'function (t3_end−t3_start)',
  worker_out: 'worker out (t3_send−t3_end)',
  respond: 'respond (t5−t4)',
  caller_link: 'caller link ((t6−t0)−(t5−t1))',
  roundtrip: 'roundtrip (t6−t0)',
  roundtrip_intended: 'roundtrip from due time (t6−t0_intended)',
  handler: 'handler (t5−t1)',
  delta: 'delta ((t6−t0)−(t5−t1))',
  latency: 'latency (t6−t0_intended in open loop, t6−t0 in closed loop)',
};

/**
 * NTP-style offset of the worker's clock relative to the gateway's, in ns:
 * worker clock − gateway clock. Exact when the two legs of the RPC link take
 * equally long; the true offset lies in [t3_send − t4, t3_recv − t2] (causality),
 * an interval as wide as the RPC link time.
 * The stamps must be absolute (same origin as their host's clock).
 */
export const workerMinusGateway = (t2: number, t3Recv: number, t3Send: number, t4: number): number =>
  (t3Recv - t2 + (t3Send - t4)) / 2;

/**
 * The same estimate between caller and gateway: gateway clock − caller clock
 * (note the direction: the gateway is the far end here, as the worker is above).
 * The true offset lies in [t5 − t6, t1 − t0].
 */
export const gatewayMinusCaller = (t0: number, t1: number, t5: number, t6: number): number =>
  (t1 - t0 + (t5 - t6)) / 2;
