/**
 * Test fixture: requests with kernel stamps, the way the roles and their
 * tracers write them, each link's parts chosen. Builds on analysis-records.ts
 * (stages chosen, hosts with clocks far apart): the caller link's net legs and
 * the RPC link's become wire plus socket waits, and the lines gain the link
 * fields and the tracers' kernel lines.
 */
import { DEFAULT_HOSTS, requestLines, trueStamps, type Hosts, type RecordLines, type RequestSpec } from './analysis-records.js';

/** ns of each part of the two links. */
export interface LinkParts {
  /** t0 → k1, k1 → t1 */
  wire_in: bigint;
  gateway_socket_wait: bigint;
  /** t5 − k5: how long after its kernel took the response the gateway stamped t5 */
  send_lag: bigint;
  /** k5 → k6, k6 → t6 */
  wire_out: bigint;
  caller_socket_wait: bigint;
  /** t2 → k3, k3 → t3_recv */
  rpc_wire_out: bigint;
  worker_socket_wait: bigint;
  /** t3_send → k4, k4 → t4 */
  rpc_wire_back: bigint;
  gateway_reply_wait: bigint;
}

export const DEFAULT_PARTS: LinkParts = {
  wire_in: 21_001n,
  gateway_socket_wait: 400_003n,
  send_lag: 12_007n,
  wire_out: 19_009n,
  caller_socket_wait: 150_011n,
  rpc_wire_out: 15_013n,
  worker_socket_wait: 90_017n,
  rpc_wire_back: 14_019n,
  gateway_reply_wait: 60_023n,
};

/** Where a request's messages travel: its connections (as the kernel names them), sockets (cookies) and RPC frame offsets. */
export interface Route {
  callerConn: string;
  callerSock: number;
  gatewayConn: string;
  gatewaySock: number;
  /** The gateway's end of its worker connection, and the worker's end of it. */
  rpcConn: string;
  rpcSock: number;
  workerConn: string;
  workerSock: number;
  /** The call frame's and the reply frame's offsets in their streams. */
  callOff: number;
  replyOff: number;
}

export const DEFAULT_ROUTE: Route = {
  callerConn: '10.0.0.1:40000>10.0.0.2:8080',
  callerSock: 11,
  gatewayConn: '10.0.0.2:8080>10.0.0.1:40000',
  gatewaySock: 21,
  rpcConn: '10.0.0.2:50000>10.0.0.3:7070',
  rpcSock: 22,
  workerConn: '10.0.0.3:7070>10.0.0.2:50000',
  workerSock: 31,
  callOff: 16,
  replyOff: 54,
};

export interface KernelRequest {
  records: RecordLines;
  /** The tracers' lines of this request, by the role whose file holds them. */
  kernel: { caller: string[]; gateway: string[]; worker: string[] };
  /** The true moments of the kernel stamps (before the hosts' clock bases). */
  k: { k1: bigint; k5: bigint; k6: bigint; k3: bigint; k4: bigint };
}

/** One request with kernel stamps; `omit` leaves out kernel lines (a lost event). */
export function kernelRequest(
  spec: RequestSpec,
  parts: Partial<LinkParts> = {},
  route: Partial<Route> = {},
  omit: readonly ('k1' | 'k5' | 'k6' | 'k3' | 'k4')[] = [],
  hosts: Hosts = DEFAULT_HOSTS,
): KernelRequest {
  const p = { ...DEFAULT_PARTS, ...parts };
  const r = { ...DEFAULT_ROUTE, ...route };
  const d = {
    ...spec.d,
    net_in: p.wire_in + p.gateway_socket_wait,
    net_out: p.wire_out - p.send_lag + p.caller_socket_wait,
    rpc_out: p.rpc_wire_out + p.worker_socket_wait,
    rpc_back: p.rpc_wire_back + p.gateway_reply_wait,
  };
  const s = trueStamps(spec.at, d);
  const k = {
    k1: s.t0 + p.wire_in,
    k5: s.t5 - p.send_lag,
    k6: s.t5 - p.send_lag + p.wire_out,
    k3: s.t2 + p.rpc_wire_out,
    k4: s.t3_send + p.rpc_wire_back,
  };
  const base = { records: requestLines({ ...spec, d }, hosts), k };
  const add = (line: string, fields: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(line), ...fields });
  const records: RecordLines = {
    caller: add(base.records.caller, { conn: r.callerConn }),
    gateway: add(base.records.gateway, { conn: r.gatewayConn, rpc_conn: r.rpcConn, rpc_off: r.replyOff }),
    worker: add(base.records.worker, { conn: r.workerConn, off: r.callOff }),
  };
  const line = (role: string, host: string, fields: Record<string, unknown>) => JSON.stringify({ role, type: 'kernel', host, ...fields });
  const at = (v: bigint, b: bigint) => String(v + b);
  const kernel: KernelRequest['kernel'] = { caller: [], gateway: [], worker: [] };
  const keep = (stamp: (typeof omit)[number]) => !omit.includes(stamp);
  if (keep('k6')) kernel.caller.push(line('caller', hosts.caller, { k: 'msg', sock: r.callerSock, t: at(k.k6, hosts.callerBase) }));
  if (keep('k1')) kernel.gateway.push(line('gateway', hosts.gateway, { k: 'msg', sock: r.gatewaySock, t: at(k.k1, hosts.gatewayBase) }));
  if (keep('k5')) kernel.gateway.push(line('gateway', hosts.gateway, { k: 'send', sock: r.gatewaySock, t: at(k.k5, hosts.gatewayBase) }));
  if (keep('k4')) kernel.gateway.push(line('gateway', hosts.gateway, { k: 'seg', sock: r.rpcSock, t: at(k.k4, hosts.gatewayBase), off: r.replyOff, len: 38 }));
  if (keep('k3')) kernel.worker.push(line('worker', hosts.worker, { k: 'seg', sock: r.workerSock, t: at(k.k3, hosts.workerBase), off: r.callOff, len: 38 }));
  return { records, kernel, k };
}

/** The tracers' sock lines for a route: each socket first seen at true time `at`. */
export function socketLines(route: Partial<Route> = {}, at = 0n, hosts: Hosts = DEFAULT_HOSTS): KernelRequest['kernel'] {
  const r = { ...DEFAULT_ROUTE, ...route };
  const line = (role: string, host: string, sock: number, conn: string, base: bigint) =>
    JSON.stringify({ role, type: 'kernel', host, k: 'sock', sock, t: String(at + base), conn });
  return {
    caller: [line('caller', hosts.caller, r.callerSock, r.callerConn, hosts.callerBase)],
    gateway: [line('gateway', hosts.gateway, r.gatewaySock, r.gatewayConn, hosts.gatewayBase), line('gateway', hosts.gateway, r.rpcSock, r.rpcConn, hosts.gatewayBase)],
    worker: [line('worker', hosts.worker, r.workerSock, r.workerConn, hosts.workerBase)],
  };
}
