import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sample } from '../trace/sampler.js';

/**
 * The figures the records sample (sampler.ts), as gauges and counters: the
 * same sampler feeds both, so /metrics and the records never disagree on
 * how busy a process was.
 */
export function processMetrics(registry: Registry, prefix: string): (s: Sample) => void {
  const registers = [registry];
  const elu = new Gauge({ name: `${prefix}_event_loop_utilization`, help: 'Share of the last sample interval the event loop was not idle (0..1)', registers });
  const delay = new Gauge({
    name: `${prefix}_event_loop_delay_seconds`,
    help: 'Event-loop delay beyond the 10 ms timer period over the last sample interval (stat: p50, p99, max)',
    labelNames: ['stat'],
    registers,
  });
  const cpu = new Counter({ name: `${prefix}_cpu_seconds_total`, help: 'CPU time of the process (all threads)', labelNames: ['mode'], registers });
  const rss = new Gauge({ name: `${prefix}_resident_memory_bytes`, help: 'Resident set size at the last sample', registers });
  const gcPause = new Counter({ name: `${prefix}_gc_pause_seconds_total`, help: 'Time the garbage collector paused the main thread', registers });
  const gcPauses = new Counter({ name: `${prefix}_gc_pauses_total`, help: "The garbage collector's pauses of the main thread", registers });
  const gcMax = new Gauge({ name: `${prefix}_gc_max_pause_seconds`, help: 'Longest garbage-collector pause of the main thread in the last sample interval', registers });
  return (s) => {
    elu.set(s.elu);
    if (s.delayP50Us !== null) delay.set({ stat: 'p50' }, s.delayP50Us / 1e6);
    if (s.delayP99Us !== null) delay.set({ stat: 'p99' }, s.delayP99Us / 1e6);
    if (s.delayMaxUs !== null) delay.set({ stat: 'max' }, s.delayMaxUs / 1e6);
    cpu.inc({ mode: 'user' }, s.cpuUserUs / 1e6);
    cpu.inc({ mode: 'system' }, s.cpuSystemUs / 1e6);
    rss.set(s.rssBytes);
    gcPause.inc(s.gcPauseUs / 1e6);
    gcPauses.inc(s.gcCount);
    gcMax.set(s.gcMaxPauseUs / 1e6);
  };
}
