import { Counter, Gauge, Registry } from 'prom-client';
import type { WorkerStamps } from '../trace/records.js';
import type { Sample } from '../trace/sampler.js';
import { ENDPOINT_LIST } from '../contract/endpoints.js';
import { BoundedCache, CounterFamily, HistogramFamily, type CounterChild, type HistogramChild } from './families.js';
import { processMetrics } from './process.js';

/** What the gateway knows of a finished request: its RequestTrace has this shape. */
export interface GatewayObservation {
  fn: string | null;
  error: string | null;
  t1: bigint;
  t2: bigint | null;
  t4: bigint | null;
  worker: WorkerStamps | null;
}

export interface GatewayGauges {
  /** RPC calls sent and not yet answered. */
  inFlight(): number;
  /** Open HTTP connections. */
  httpConnections(): number;
  /** Worker connections that are up. */
  rpcConnected(): number;
  /** Times a worker connection came up again after its first. */
  rpcReconnects(): number;
  /** The workers by state (rpc/fleet.ts). */
  workers?(): Record<string, number>;
  /** Seconds calls spent in flight, summed: its rate is the mean concurrency. */
  busySeconds?(): number;
  /** Calls sent again after their worker was lost. */
  retries?(): number;
}

/** The stages of docs/measurement.md that the gateway sees whole (the caller's link is the caller's). */
export const GATEWAY_STAGES = ['gateway_in', 'rpc_link', 'worker_queue', 'function', 'worker_out', 'respond', 'handler'] as const;

interface FnSeries {
  stages: HistogramChild[];
  /** status → error code ('' for none) → counter. */
  requests: Map<number, Map<string, CounterChild>>;
  label: string;
}

const MAX_FUNCTIONS = 200;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly onSample: (s: Sample) => void;
  private readonly series: BoundedCache<FnSeries>;
  private readonly requests: CounterFamily;

  constructor(
    private readonly framework: string,
    gauges: GatewayGauges,
  ) {
    const registers = [this.registry];
    const stages = new HistogramFamily(
      'faasbench_gateway_stage_seconds',
      'Time of each stage of a request (docs/measurement.md), by function and framework',
      ['framework', 'fn', 'stage'],
    ).register(this.registry);
    this.requests = new CounterFamily('faasbench_gateway_requests_total', 'Requests answered, by function, status and error code', [
      'framework',
      'fn',
      'status',
      'code',
    ]).register(this.registry);
    this.series = new BoundedCache(
      MAX_FUNCTIONS,
      (label) => ({
        label,
        stages: GATEWAY_STAGES.map((stage) => stages.child([framework, label, stage])),
        requests: new Map(),
      }),
      // The endpoints and unrouted requests always count as themselves.
      [...ENDPOINT_LIST.map((e) => e.name), 'none'],
    );
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers, labelNames: ['framework'], collect() { this.set({ framework }, read()); } });
    gauge('faasbench_gateway_calls_in_flight', 'RPC calls sent to a worker and not yet answered', gauges.inFlight);
    gauge('faasbench_gateway_http_connections', 'Open HTTP connections', gauges.httpConnections);
    gauge('faasbench_gateway_rpc_connections', 'Worker connections that are up', gauges.rpcConnected);
    let reconnectsSeen = 0;
    new Counter({
      name: 'faasbench_gateway_rpc_reconnects_total',
      help: 'Times a worker connection came up again after it was lost',
      labelNames: ['framework'],
      registers,
      collect() {
        const n = gauges.rpcReconnects();
        this.inc({ framework }, n - reconnectsSeen);
        reconnectsSeen = n;
      },
    });
    this.fleetEvents = new Counter({
      name: 'faasbench_gateway_fleet_events_total',
      help: 'Changes of the worker set: added, connected, lost, unhealthy, healthy, ejected, readmitted, draining, removed',
      labelNames: ['framework', 'event'],
      registers,
    });
    if (gauges.workers) {
      const read = gauges.workers;
      new Gauge({
        name: 'faasbench_gateway_workers',
        help: 'Workers by state: active (taking calls), connecting, unhealthy (pings unanswered), ejected (outlier), draining',
        labelNames: ['framework', 'state'],
        registers,
        collect() {
          for (const [state, n] of Object.entries(read())) this.set({ framework, state }, n);
        },
      });
    }
    const counterOf = (name: string, help: string, read: () => number) => {
      let seen = 0;
      new Counter({
        name,
        help,
        labelNames: ['framework'],
        registers,
        collect() {
          const n = read();
          this.inc({ framework }, Math.max(0, n - seen));
          seen = Math.max(seen, n);
        },
      });
    };
    if (gauges.busySeconds) {
      counterOf('faasbench_gateway_calls_in_flight_seconds_total', 'Time calls spent in flight, summed over calls: its rate() is the mean number in flight (the concurrency)', gauges.busySeconds);
      // A reader that divides the counter's increase by its own clock counts its own delays in; this clock is read with the counter.
      gauge('faasbench_gateway_monotonic_seconds', "The gateway's monotonic clock as this scrape was answered: the time base of the counters beside it", () => performance.now() / 1000);
    }
    if (gauges.retries) counterOf('faasbench_gateway_retries_total', 'Calls sent again to another worker after theirs was lost', gauges.retries);
    this.onSample = processMetrics(this.registry, 'faasbench_gateway_process');
  }

  private readonly fleetEvents: Counter;

  /** A change of the worker set. */
  fleetEvent(event: string): void {
    this.fleetEvents.inc({ framework: this.framework, event });
  }

  /** A finished request: its status, error code and every stage it has stamps for. */
  observe(o: GatewayObservation, status: number, t5: bigint): void {
    // Unrouted requests (fn null) are one series, whatever their path; a
    // record's name with arguments (payload?bytes=N) counts as its function:
    // a client choosing sizes must not choose label values.
    const s = this.series.get(o.fn === null ? 'none' : functionOf(o.fn));
    const h = s.stages;
    const { t1, t2, t4, worker: w } = o;
    if (t2 !== null) h[0]!.observeNs(Number(t2 - t1));
    if (t2 !== null && t4 !== null && w !== null) {
      h[1]!.observeNs(Number(t4 - t2 - (w.t3_send - w.t3_recv)));
      h[2]!.observeNs(Number(w.t3_start - w.t3_recv));
      h[3]!.observeNs(Number(w.t3_end - w.t3_start));
      h[4]!.observeNs(Number(w.t3_send - w.t3_end));
    }
    if (t4 !== null) h[5]!.observeNs(Number(t5 - t4));
    h[6]!.observeNs(Number(t5 - t1));
    this.count(s, status, o.error ?? '').value++;
  }

  private count(s: FnSeries, status: number, code: string): CounterChild {
    let byCode = s.requests.get(status);
    if (!byCode) s.requests.set(status, (byCode = new Map()));
    let c = byCode.get(code);
    if (!c) byCode.set(code, (c = this.requests.child([this.framework, s.label, String(status), code])));
    return c;
  }
}

/** "payload?bytes=1024&format=json" → "payload". */
function functionOf(name: string): string {
  const q = name.indexOf('?');
  return q === -1 ? name : name.slice(0, q);
}
