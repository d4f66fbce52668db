/**
 * Histogram and counter families that prom-client's registry exposes, counted
 * by our own code: prom-client's observe() builds and hashes a label object
 * on every call; here a request costs a cached child's array increment, and
 * label objects are built only at scrape time.
 */
import type { Registry } from 'prom-client';

/** Bucket bounds in seconds: 10 µs to 60 s, 1-2.5-5 per decade, so the µs-scale stages resolve. */
export const STAGE_BUCKETS_SECONDS: readonly number[] = [
  10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10,
  25, 50, 60,
];

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What prom-client's Registry reads from a metric (registerMetric, getMetricsAsString). */
interface Exposable {
  name: string;
  get(): { name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' };
}

abstract class Family<Child> implements Exposable {
  private readonly children = new Map<string, { values: readonly string[]; child: Child }>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'histogram' | 'counter',
    private readonly labelNames: readonly string[],
  ) {}

  /** The series of these label values (created once; callers cache it, the hot path never comes here). */
  child(values: readonly string[]): Child {
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (!entry) {
      entry = { values: [...values], child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract create(): Child;
  protected abstract expose(labels: Record<string, string>, child: Child, out: MetricValue[]): void;

  get() {
    const values: MetricValue[] = [];
    for (const { values: v, child } of this.children.values()) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = v[i]!));
      this.expose(labels, child, values);
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' as const };
  }

  register(registry: Registry): this {
    registry.registerMetric(this as never);
    return this;
  }
}

/** One histogram series: counts per bucket (non-cumulative, last slot +Inf), the sum in ns. */
export class HistogramChild {
  readonly counts: Float64Array;
  sumNs = 0;
  count = 0;
  constructor(private readonly boundsNs: Float64Array) {
    this.counts = new Float64Array(boundsNs.length + 1);
  }

  observeNs(ns: number): void {
    const b = this.boundsNs;
    // Binary search for the first bound >= ns (Prometheus buckets are "le").
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]! < ns) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]!++;
    this.sumNs += ns;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramChild> {
  private readonly boundsNs: Float64Array;
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly boundsSeconds: readonly number[] = STAGE_BUCKETS_SECONDS,
  ) {
    super(name, help, 'histogram', labelNames);
    this.boundsNs = Float64Array.from(boundsSeconds, (s) => Math.round(s * 1e9));
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.boundsNs);
  }

  protected expose(labels: Record<string, string>, child: HistogramChild, out: MetricValue[]): void {
    let cumulative = 0;
    this.boundsSeconds.forEach((le, i) => {
      cumulative += child.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
    out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: child.count });
    out.push({ metricName: `${this.name}_sum`, labels, value: child.sumNs / 1e9 });
    out.push({ metricName: `${this.name}_count`, labels, value: child.count });
  }
}

export class CounterChild {
  value = 0;
}

export class CounterFamily extends Family<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames);
  }

  protected create(): CounterChild {
    return new CounterChild();
  }

  protected expose(labels: Record<string, string>, child: CounterChild, out: MetricValue[]): void {
    out.push({ labels, value: child.value });
  }
}

/**
 * Label values from outside (function names a worker announces) are bounded:
 * past `limit` distinct values, the rest count as "other", so a worker with
 * thousands of functions cannot grow the exposition without end. The
 * `reserved` labels (the fixed endpoints, "none") always have series of their
 * own, however many others came first.
 */
export class BoundedCache<T> {
  private readonly entries = new Map<string, T>();
  private other: T | null = null;
  private readonly reserved: ReadonlySet<string>;
  /** Entries of labels not reserved. */
  private unreserved = 0;
  constructor(
    private readonly limit: number,
    private readonly make: (label: string) => T,
    reserved: readonly string[] = [],
  ) {
    this.reserved = new Set(reserved);
  }

  get(label: string): T {
    const hit = this.entries.get(label);
    if (hit !== undefined) return hit;
    const reserved = this.reserved.has(label);
    if (!reserved && this.unreserved >= this.limit) return (this.other ??= this.make('other'));
    const made = this.make(label);
    this.entries.set(label, made);
    if (!reserved) this.unreserved++;
    return made;
  }
}
