/**
 * Figures that one figure computed and a later one needs again: the
 * roundtrip percentiles and throughput of each cell (summarize.ts) are what
 * the scale-out figures (scale.ts) work out once more when a cell has one
 * gateway, one worker and one policy, as most do. Figures, not the sorted
 * roundtrips: those were ~8 bytes a measured request kept to the end.
 */
import { percentileOfSorted } from '../../stats/percentiles.js';
import type { Group } from '../read/join.js';
import type { Throughput } from './throughput.js';

/** A cell's roundtrip percentiles (ns) and throughput. */
export interface CellLatency {
  p50: number;
  p99: number;
  throughput: Throughput;
}

interface Kept extends CellLatency {
  /** Requests of the cell: a subset of them with as many is all of them. */
  count: number;
}

export class SortedCache {
  private readonly roundtrips = new Map<Group, Map<number, Kept>>();

  keep(group: Group, connections: number, count: number, sortedRoundtrip: Float64Array, throughput: Throughput): void {
    let byConnections = this.roundtrips.get(group);
    if (!byConnections) this.roundtrips.set(group, (byConnections = new Map()));
    byConnections.set(connections, { count, p50: percentileOfSorted(sortedRoundtrip, 50), p99: percentileOfSorted(sortedRoundtrip, 99), throughput });
  }

  /** The roundtrip percentiles and the throughput of `count` of the group's requests at this connection count, when that is all of them. */
  cell(group: Group, connections: number, count: number): CellLatency | null {
    const kept = this.roundtrips.get(group)?.get(connections);
    return kept !== undefined && kept.count === count ? kept : null;
  }
}
