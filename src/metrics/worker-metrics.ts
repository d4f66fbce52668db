import { Gauge, Registry } from 'prom-client';
import type { Sample } from '../trace/sampler.js';
import { BoundedCache, CounterFamily, HistogramFamily, type CounterChild, type HistogramChild } from './families.js';
import { processMetrics } from './process.js';

export const WORKER_STAGES = ['worker_queue', 'function', 'worker_out'] as const;

interface FnSeries {
  stages: HistogramChild[];
  /** outcome ('ok' or the error code) → counter. */
  calls: Map<string, CounterChild>;
  label: string;
}

const MAX_FUNCTIONS = 200;

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly onSample: (s: Sample) => void;
  private readonly series: BoundedCache<FnSeries>;
  private readonly calls: CounterFamily;

  /** `gauges`: the executor's load (calls in flight, pool running and queued), read at scrape time. */
  constructor(gauges: () => Record<string, number>, rpcConnections: () => number) {
    const registers = [this.registry];
    const stages = new HistogramFamily('faasbench_worker_stage_seconds', "Time of the worker's stages of a call, by function", ['fn', 'stage']).register(
      this.registry,
    );
    this.calls = new CounterFamily('faasbench_worker_calls_total', 'Calls answered, by function and outcome (ok or the error code)', ['fn', 'outcome']).register(
      this.registry,
    );
    this.series = new BoundedCache(MAX_FUNCTIONS, (label) => ({
      label,
      stages: WORKER_STAGES.map((stage) => stages.child([label, stage])),
      calls: new Map(),
    }));
    new Gauge({
      name: 'faasbench_worker_load',
      help: 'Calls in flight (inflight), pool calls running (pool_running) and queued for a pool thread (pool_queued)',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, n] of Object.entries(gauges())) this.set({ kind }, n);
      },
    });
    new Gauge({
      name: 'faasbench_worker_rpc_connections',
      help: 'Client (gateway) connections open',
      registers,
      collect() {
        this.set(rpcConnections());
      },
    });
    this.onSample = processMetrics(this.registry, 'faasbench_worker_process');
  }

  /** A call whose reply went out. */
  observe(fn: string, error: string | null, t3_recv: bigint, t3_start: bigint, t3_end: bigint, t3_send: bigint): void {
    const s = this.series.get(fn);
    const h = s.stages;
    h[0]!.observeNs(Number(t3_start - t3_recv));
    h[1]!.observeNs(Number(t3_end - t3_start));
    h[2]!.observeNs(Number(t3_send - t3_end));
    const outcome = error ?? 'ok';
    let c = s.calls.get(outcome);
    if (!c) s.calls.set(outcome, (c = this.calls.child([s.label, outcome])));
    c.value++;
  }
}
