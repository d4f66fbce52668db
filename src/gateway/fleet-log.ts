/**
 * A gateway's worker set over time, told three ways: a "fleet" log line, a
 * fleet record in its record file (trace/records.ts), and the fleet events
 * counter of its metrics. Events that come before the record file is open
 * (the workers given at start) wait for it.
 */
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { FleetEvent } from '../rpc/fleet.js';
import { now } from '../trace/clock.js';
import type { RecordSink } from '../trace/record-writer.js';
import { formatFleetRecord } from '../trace/records.js';

export class FleetLog {
  /** Lines and event kinds from before attach(). */
  private early: Array<[string, string]> | null = [];
  private sink: RecordSink | null = null;
  private metrics: GatewayMetrics | null = null;

  constructor(
    private readonly framework: string,
    private readonly logger: Logger,
  ) {}

  readonly onEvent = (e: FleetEvent): void => {
    const line = formatFleetRecord({ role: 'gateway', part: this.framework, t: now(), event: e.event, worker: e.worker, active: e.active, detail: e.detail });
    // The workers given at start are added as a matter of course: those lines stay at debug.
    this.logger[this.early && e.event === 'added' ? 'debug' : 'info']({ event: e.event, worker: e.worker, active: e.active.length, detail: e.detail }, 'fleet');
    if (this.early) return void this.early.push([line, e.event]);
    this.metrics?.fleetEvent(e.event);
    this.sink?.write(line);
  };

  /** From now on, records and metrics; the events so far are written first. */
  attach(sink: RecordSink | null, metrics: GatewayMetrics | null): void {
    this.sink = sink;
    this.metrics = metrics;
    for (const [line, event] of this.early ?? []) {
      sink?.write(line);
      metrics?.fleetEvent(event);
    }
    this.early = null;
  }
}
