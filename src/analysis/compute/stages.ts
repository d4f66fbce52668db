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

/*
 * The links split by the kernel (docs/measurement.md#the-links-split-by-the-kernel),
 * from kernel stamps: k1 (request at the gateway's socket), k5 (the gateway's
 * kernel took the response), k6 (response at the caller's socket), k3 (call at
 * the worker's socket), k4 (reply at the gateway's socket). Where the kernel
 * saw the response's send, k5 stands for t5 in every stage (handedOver), so
 *   caller link = wire + gateway socket wait + caller socket wait
 *   ((t6−t0)−(t5−t1) = [(k6−t0)−(t5−k1)] + (t1−k1) + (t6−k6))
 *   RPC link = RPC wire + worker socket wait + gateway reply wait
 *   ((t4−t2)−(t3s−t3r) = [(k4−t2)−(t3s−k3)] + (t3r−k3) + (t4−k4)).
 * Each is again a difference of stamps of one host, or of two such differences.
 */

/** The moment the response was handed over: the kernel's (k5) where it saw it, else t5. */
export const handedOver = (t5: number, k5: number): number => (k5 === k5 ? k5 : t5);
/** Both directions between caller and gateway, from their kernels' arrivals. */
export const wire = (t0: number, k1: number, t5: number, k6: number): number => k6 - t0 - (t5 - k1);
export const gatewaySocketWait = (k1: number, t1: number): number => t1 - k1;
export const callerSocketWait = (k6: number, t6: number): number => t6 - k6;
export const rpcWire = (t2: number, k3: number, t3Send: number, k4: number): number => k4 - t2 - (t3Send - k3);
export const workerSocketWait = (k3: number, t3Recv: number): number => t3Recv - k3;
export const gatewayReplyWait = (k4: number, t4: number): number => t4 - k4;

/**
 * The stages that partition the roundtrip, in the order the request meets them.
 * `roundtrip` and `roundtrip_intended` are totals, listed after, then the
 * original report's own two: `handler` (its Figure 7) and `delta` (Figure 8),
 * then `latency`: the roundtrip from the due time where the load was open loop.
 */
export const PARTS = ['gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond', 'caller_link'] as const;
export const TOTALS = ['roundtrip', 'roundtrip_intended', 'handler', 'delta', 'latency'] as const;
/** The caller link's three parts, then the RPC link's: only where kernel stamps are (NaN elsewhere). */
export const CALLER_LINK_PARTS = ['wire', 'gateway_socket_wait', 'caller_socket_wait'] as const;
export const RPC_LINK_PARTS = ['rpc_wire', 'worker_socket_wait', 'gateway_reply_wait'] as const;
export const LINK_PARTS = [...CALLER_LINK_PARTS, ...RPC_LINK_PARTS] as const;
export type LinkPart = (typeof LINK_PARTS)[number];
export const STAGES = [...PARTS, ...TOTALS, ...LINK_PARTS] as const;
export const STAGES_WITHOUT_LINKS = [...PARTS, ...TOTALS] as const;
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
  wire: 'wire',
  gateway_socket_wait: 'gateway socket wait',
  caller_socket_wait: 'caller socket wait',
  rpc_wire: 'RPC wire',
  worker_socket_wait: 'worker socket wait',
  gateway_reply_wait: 'gateway reply wait',
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
  wire: 'wire ((k6−t0)−(t5−k1)), caller link part',
  gateway_socket_wait: 'gateway socket wait (t1−k1), caller link part',
  caller_socket_wait: 'caller socket wait (t6−k6), caller link part',
  rpc_wire: 'RPC wire ((k4−t2)−(t3_send−k3)), RPC link part',
  worker_socket_wait: 'worker socket wait (t3_recv−k3), RPC link part',
  gateway_reply_wait: 'gateway reply wait (t4−k4), RPC link part',
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
