import { Gauge, Registry } from 'prom-client';
import type { Sample } from '../trace/sampler.js';
import { BoundedCache, CounterFamily, HistogramFamily, type CounterChild, type HistogramChild } from './families.js';
import { processMetrics } from './process.js';

export const WORKER_STAGES = ['worker_queue', 'function', 'worker_out'] as const;
export const COLD_PHASES = ['load', 'init'] as const;

/** Where a call ran, as the worker's records say it (the worker's InstanceUse). */
export interface RanIn {
  /** Its cold start's stamps; null when it took a warm instance. */
  cold: { spawn: bigint; loaded: bigint; init: bigint } | null;
}

/** How a call found its instance: it started one, took a warm one, or never reached one (unknown function, instance lost). */
const START = ['cold', 'warm', 'none'] as const;

interface FnSeries {
  stages: HistogramChild[];
  /** A cold start's phases: spawn → module loaded, loaded → init done. */
  coldPhases: HistogramChild[];
  /** outcome ('ok' or the error code) → counters by START index. */
  calls: Map<string, CounterChild[]>;
  label: string;
}

const MAX_FUNCTIONS = 200;

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly onSample: (s: Sample) => void;
  private readonly series: BoundedCache<FnSeries>;
  private readonly calls: CounterFamily;
  private readonly served: ReadonlySet<string>;

  /** `gauges`: the executor's load (calls in flight, pool running and queued), read at scrape time. */
  /** `functions`: the names the worker serves; a call naming any other counts as fn="none". */
  constructor(gauges: () => Record<string, number>, rpcConnections: () => number, functions: readonly string[] = []) {
    const registers = [this.registry];
    const stages = new HistogramFamily('faasbench_worker_stage_seconds', "Time of the worker's stages of a call, by function", ['fn', 'stage']).register(
      this.registry,
    );
    this.calls = new CounterFamily(
      'faasbench_worker_calls_total',
      'Calls answered, by function, outcome (ok or the error code) and start (cold: it started its instance; warm; none: it reached no instance)',
      ['fn', 'outcome', 'start'],
    ).register(this.registry);
    const cold = new HistogramFamily(
      'faasbench_worker_cold_start_seconds',
      "Phases of a cold call's instance start, by function: load (spawn to module loaded) and init (module loaded to init done)",
      ['fn', 'phase'],
    ).register(this.registry);
    this.served = new Set(functions);
    this.series = new BoundedCache(
      MAX_FUNCTIONS,
      (label) => ({
        label,
        stages: WORKER_STAGES.map((stage) => stages.child([label, stage])),
        coldPhases: COLD_PHASES.map((phase) => cold.child([label, phase])),
        calls: new Map(),
      }),
      [...functions.slice(0, MAX_FUNCTIONS), 'none'],
    );
    new Gauge({
      name: 'faasbench_worker_load',
      help: 'Calls in flight (inflight), pool calls running (pool_running) and queued (pool_queued), instances alive (instances), running a call (instances_busy), and calls waiting for one (instances_queued)',
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

  /** A call whose reply went out; `instance`: where it ran (null: nowhere). */
  observe(fn: string, error: string | null, instance: RanIn | null, t3_recv: bigint, t3_start: bigint, t3_end: bigint, t3_send: bigint): void {
    // The name a client sent: a label only when the worker serves it.
    const s = this.series.get(this.served.has(fn) ? fn : 'none');
    const h = s.stages;
    h[0]!.observeNs(Number(t3_start - t3_recv));
    h[1]!.observeNs(Number(t3_end - t3_start));
    h[2]!.observeNs(Number(t3_send - t3_end));
    const cold = instance?.cold;
    if (cold) {
      s.coldPhases[0]!.observeNs(Number(cold.loaded - cold.spawn));
      s.coldPhases[1]!.observeNs(Number(cold.init - cold.loaded));
    }
    const start = instance === null ? 2 : cold ? 0 : 1;
    const outcome = error ?? 'ok';
    let byStart = s.calls.get(outcome);
    if (!byStart) s.calls.set(outcome, (byStart = []));
    const c = (byStart[start] ??= this.calls.child([s.label, outcome, START[start]!]));
    c.value++;
  }
}
