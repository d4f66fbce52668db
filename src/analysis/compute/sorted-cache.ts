/**
 * Sorted stage values that one figure computed and a later one needs again:
 * the roundtrip and throughput of each cell (summarize.ts) are what the
 * scale-out figures (scale.ts) work out once more when a cell has one gateway, one worker and one
 * policy, as most do. ~8 bytes a measured request.
 */
import type { Group } from '../read/join.js';
import type { Throughput } from './throughput.js';

interface Kept {
  /** Requests of the cell: a subset of them with as many is all of them. */
  count: number;
  sorted: Float64Array;
  throughput: Throughput;
}

export class SortedCache {
  private readonly roundtrips = new Map<Group, Map<number, Kept>>();

  keep(group: Group, connections: number, count: number, sortedRoundtrip: Float64Array, throughput: Throughput): void {
    let byConnections = this.roundtrips.get(group);
    if (!byConnections) this.roundtrips.set(group, (byConnections = new Map()));
    byConnections.set(connections, { count, sorted: sortedRoundtrip, throughput });
  }

  /** The sorted roundtrips and the throughput of `count` of the group's requests at this connection count, when that is all of them. */
  cell(group: Group, connections: number, count: number): { sorted: Float64Array; throughput: Throughput } | null {
    const kept = this.roundtrips.get(group)?.get(connections);
    return kept !== undefined && kept.count === count ? kept : null;
  }
}
