/**
 * `analyze --otlp FILE`: every joined request as an OpenTelemetry trace in
 * OTLP/JSON (ExportTraceServiceRequest), which Jaeger and Grafana Tempo
 * import. One span per role (caller CLIENT, gateway SERVER, worker SERVER),
 * child spans per stage. The types are the OTLP transformer's own; a test
 * checks the file against that package's JSON serializer.
 *
 * Times. Each host's stamps are on its own monotonic clock. Every span's
 * duration is a difference taken on one host, exact whatever the clocks. A
 * child role is placed inside its parent by the NTP-style offset of that
 * request's own four stamps (docs/measurement.md, Clocks): the gateway's
 * handler at the middle of the caller's wait, the worker's call at the
 * middle of the gateway's RPC call. The caller's clock is anchored to wall
 * time at `anchorWallNs` (its first request), since records keep no wall time.
 */
import { createHash } from 'node:crypto';
import type { IExportTraceServiceRequest, IResourceSpans, ISpan } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';
import type { IKeyValue } from '@opentelemetry/otlp-transformer/build/src/common/internal-types.js';
import { version } from '../../version.js';
import { HAS_CALLER, HAS_GATEWAY, WARMUP, type RequestTable } from '../read/table.js';
import { textOut } from './text-out.js';

type Kind = ISpan['kind'];
const INTERNAL = 1 as Kind;
const SERVER = 2 as Kind;
const CLIENT = 3 as Kind;
/** W3C trace flags "sampled" with OTLP's "has is_remote" bit: what the OTLP exporters write for a local span. */
const FLAGS = 0x101;
const STATUS_ERROR = 2;

type Role = 'caller' | 'gateway' | 'worker';

/** A request's stamps on the caller's clock, relative to its clock's base (ns). */
interface Placed {
  traceId: string;
  spanBase: string;
  t0: number;
  t6: number;
  /** Gateway stamps moved by the request's own gateway − caller offset. */
  t1: number;
  t2: number;
  t4: number;
  t5: number;
  /** Worker stamps moved by the worker − gateway and gateway − caller offsets; NaN without them. */
  w: [number, number, number, number] | null;
}

const HEX32 = /^[0-9a-f]{32}$/;

/** Writes the OTLP/JSON file; returns the number of requests (traces) in it. */
export async function writeOtlp(path: string, t: RequestTable, anchorWallNs: bigint): Promise<number> {
  const joined: number[] = [];
  const firstT0 = new Map<number, number>();
  for (let i = 0; i < t.size; i++) {
    if ((t.u8.flags[i]! & (HAS_CALLER | HAS_GATEWAY)) !== (HAS_CALLER | HAS_GATEWAY)) continue;
    if (!(t.f64.t0[i]! === t.f64.t0[i]! && t.f64.t6[i]! === t.f64.t6[i]! && t.f64.t1[i]! === t.f64.t1[i]!)) continue;
    joined.push(i);
    const clock = t.u16.callerClock[i]!;
    const first = firstT0.get(clock);
    if (first === undefined || t.f64.t0[i]! < first) firstT0.set(clock, t.f64.t0[i]!);
  }
  const wall = (clock: number, rel: number) => (anchorWallNs + BigInt(Math.round(rel - firstT0.get(clock)!))).toString();

  // One resource per role and host, each written in a pass over the requests.
  const groups = new Map<string, { role: Role; host: string; slots: number[] }>();
  const group = (role: Role, host: string, i: number) => {
    const key = `${role}\u0000${host}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { role, host, slots: [] }));
    g.slots.push(i);
  };
  for (const i of joined) {
    group('caller', t.clockHost[t.u16.callerClock[i]!] ?? '?', i);
    group('gateway', t.clockHost[t.u16.gatewayClock[i]!] ?? '?', i);
    if (placeWorker(t, i)) group('worker', t.hosts.value(t.u16.workerHost[i]!) ?? t.hosts.value(t.u16.workerAddress[i]!) ?? '?', i);
  }

  const out = textOut(path);
  const write = out.write;
  await write('{"resourceSpans":[');
  let firstGroup = true;
  for (const g of groups.values()) {
    const resource: IResourceSpans = {
      resource: { attributes: attributes({ 'service.name': `faasbench-${g.role}`, 'service.version': version, 'host.name': g.host }), droppedAttributesCount: 0 },
      scopeSpans: [],
    };
    const head = JSON.stringify(resource).replace(/"scopeSpans":\[\]\}$/, '');
    await write(`${firstGroup ? '' : ','}${head}"scopeSpans":[{"scope":{"name":"faasbench","version":${JSON.stringify(version)}},"spans":[`);
    firstGroup = false;
    let chunk: string[] = [];
    let firstSpan = true;
    for (const i of g.slots) {
      const p = place(t, i);
      const clock = t.u16.callerClock[i]!;
      for (const span of spansOf(t, i, p, g.role, (rel) => wall(clock, rel))) {
        chunk.push((firstSpan ? '' : ',') + JSON.stringify(span));
        firstSpan = false;
      }
      if (chunk.length >= 512) {
        await write(chunk.join(''));
        chunk = [];
      }
    }
    await write(`${chunk.join('')}]}]}`);
  }
  await write(']}\n');
  await out.close();
  return joined.length;
}

function placeWorker(t: RequestTable, i: number): boolean {
  const f = t.f64;
  return [f.t2[i]!, f.t4[i]!, f.t3_recv[i]!, f.t3_start[i]!, f.t3_end[i]!, f.t3_send[i]!].every((v) => v === v);
}

function place(t: RequestTable, i: number): Placed {
  const f = t.f64;
  const id = t.id(i);
  const traceId = t.traceIds.get(i) ?? (HEX32.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 32));
  const spanBase = createHash('sha256').update(`${traceId} ${id}`).digest('hex').slice(0, 14);
  // Whole ns, so that every duration stays the exact one-host difference.
  const og = Math.round((f.t1[i]! - f.t0[i]! + (f.t5[i]! - f.t6[i]!)) / 2);
  let w: Placed['w'] = null;
  if (placeWorker(t, i)) {
    const ow = Math.round((f.t3_recv[i]! - f.t2[i]! + (f.t3_send[i]! - f.t4[i]!)) / 2) + og;
    w = [f.t3_recv[i]! - ow, f.t3_start[i]! - ow, f.t3_end[i]! - ow, f.t3_send[i]! - ow];
  }
  return { traceId, spanBase, t0: f.t0[i]!, t6: f.t6[i]!, t1: f.t1[i]! - og, t2: f.t2[i]! - og, t4: f.t4[i]! - og, t5: f.t5[i]! - og, w };
}

/** Span ids of one request: distinct, never all zero. */
const spanId = (p: Placed, n: number) => p.spanBase + n.toString(16).padStart(2, '0');
const CALLER_SPAN = 1;
const GATEWAY_SPAN = 2;
const RPC_SPAN = 4;
const WORKER_SPAN = 6;

function spansOf(t: RequestTable, i: number, p: Placed, role: Role, wall: (rel: number) => string): ISpan[] {
  const span = (n: number, parent: number | null, name: string, kind: Kind, start: number, end: number, attrs: Record<string, string | number | boolean> = {}, error: string | null = null): ISpan => ({
    traceId: p.traceId,
    spanId: spanId(p, n),
    ...(parent === null ? {} : { parentSpanId: spanId(p, parent) }),
    name,
    kind,
    startTimeUnixNano: wall(start),
    endTimeUnixNano: wall(end),
    attributes: attributes(attrs),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    status: error === null ? { code: 0 } : { code: STATUS_ERROR, message: error },
    links: [],
    droppedLinksCount: 0,
    flags: FLAGS,
  } as ISpan);
  const has = (v: number) => v === v;
  const fn = t.fns.value(t.u8.fn[i]!) ?? '(unrouted)';
  if (role === 'caller') {
    const request = t.requests.value(t.u32.request[i]!) ?? 'GET ?';
    const space = request.indexOf(' ');
    const status = t.i16.callerStatus[i]!;
    const error = t.errors.value(t.u16.callerError[i]!) ?? (status >= 400 ? `status ${status}` : null);
    return [
      span(CALLER_SPAN, null, request, CLIENT, p.t0, p.t6, {
        'faasbench.request_id': t.id(i),
        'http.request.method': request.slice(0, space),
        'url.path': request.slice(space + 1),
        ...(status >= 0 ? { 'http.response.status_code': status } : {}),
        'faasbench.connections': t.u32.connections[i]!,
        'faasbench.warmup': (t.u8.flags[i]! & WARMUP) !== 0,
        'faasbench.roundtrip_ns': p.t6 - p.t0,
        'faasbench.caller_link_ns': p.t6 - p.t0 - (p.t5 - p.t1),
      }, error),
    ];
  }
  if (role === 'gateway') {
    const status = t.i16.gatewayStatus[i]!;
    const error = t.errors.value(t.u16.gatewayError[i]!);
    const out = [
      span(GATEWAY_SPAN, CALLER_SPAN, `${t.frameworks.value(t.u8.framework[i]!) ?? '?'} /${fn}`, SERVER, p.t1, p.t5, {
        'faasbench.request_id': t.id(i),
        'faasbench.framework': t.frameworks.value(t.u8.framework[i]!) ?? '?',
        'faasbench.fn': fn,
        ...(status >= 0 ? { 'http.response.status_code': status } : {}),
        'faasbench.handler_ns': p.t5 - p.t1,
      }, error),
    ];
    if (has(p.t2)) out.push(span(3, GATEWAY_SPAN, 'gateway in', INTERNAL, p.t1, p.t2));
    if (has(p.t2) && has(p.t4)) {
      const rpcLink: Record<string, number> = p.w ? { 'faasbench.rpc_link_ns': p.t4 - p.t2 - (p.w[3] - p.w[0]) } : {};
      out.push(span(RPC_SPAN, GATEWAY_SPAN, 'RPC call', CLIENT, p.t2, p.t4, rpcLink));
    }
    if (has(p.t4)) out.push(span(5, GATEWAY_SPAN, 'respond', INTERNAL, p.t4, p.t5));
    return out;
  }
  const w = p.w!;
  const error = t.errors.value(t.u16.workerError[i]!) ?? t.errors.value(t.u16.gatewayError[i]!);
  const workerFn = t.fns.value(t.u8.workerFn[i]!) ?? fn;
  return [
    span(WORKER_SPAN, RPC_SPAN, workerFn, SERVER, w[0], w[3], { 'faasbench.request_id': t.id(i), 'faasbench.fn': workerFn }, isWorkerError(error) ? error : null),
    span(7, WORKER_SPAN, 'worker queue', INTERNAL, w[0], w[1]),
    span(8, WORKER_SPAN, 'function', INTERNAL, w[1], w[2]),
    span(9, WORKER_SPAN, 'worker out', INTERNAL, w[2], w[3]),
  ];
}

/** The worker's own failures; a gateway-side code (a timeout it gave up on) is not the worker's. */
function isWorkerError(code: string | null): code is string {
  return code !== null && code !== 'gateway_timeout' && code !== 'worker_unavailable';
}

/** OTLP KeyValues, typed as the transformer's toAttributes() writes them (integers as intValue, others as doubleValue). */
function attributes(values: Record<string, string | number | boolean>): IKeyValue[] {
  return Object.entries(values).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v },
  }));
}

export type { IExportTraceServiceRequest };
