/**
 * The soak's memory side: samples each process's RSS from /proc/<pid>/status
 * (and its V8 heap, from the file soak-heap.ts keeps) once a second, and
 * judges whether memory stayed flat after the warm-up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const MIB = 1024 * 1024;

export interface MemorySample {
  /** Seconds since the load started. */
  t: number;
  rssMiB: number | null;
  /** V8 heap in use, when the process reports it. */
  heapMiB: number | null;
}

/** RSS of a live process in MiB, or null when it is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

function heapMiB(heapDir: string, pid: number): number | null {
  try {
    const h = JSON.parse(readFileSync(join(heapDir, `heap-${pid}.json`), 'utf8')) as { heapUsed: number };
    return h.heapUsed / MIB;
  } catch {
    return null;
  }
}

export function sample(pid: number, heapDir: string, t: number): MemorySample {
  return { t, rssMiB: rssMiB(pid), heapMiB: heapMiB(heapDir, pid) };
}

export interface Growth {
  /** Median of the first samples after the warm-up, and of the last ones. */
  startMiB: number;
  endMiB: number;
  growthMiB: number;
  growthPct: number;
  /** Least-squares slope over the whole measured window. */
  slopeMiBPerMin: number;
  minMiB: number;
  maxMiB: number;
  samples: number;
}

export interface MemoryVerdict {
  rss: Growth | null;
  heap: Growth | null;
  /** RSS growth within the allowance (maxGrowthPct of the start, and at least maxGrowthMiB). */
  flat: boolean | null;
}

const EDGE = 5; // samples at each end whose median is the start / end value

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function growth(points: Array<[number, number]>): Growth | null {
  if (points.length < 2) return null;
  const ys = points.map(([, y]) => y);
  const edge = Math.max(1, Math.min(EDGE, Math.floor(points.length / 4)));
  const startMiB = median(ys.slice(0, edge));
  const endMiB = median(ys.slice(-edge));
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = ys.reduce((a, y) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  return {
    startMiB,
    endMiB,
    growthMiB: endMiB - startMiB,
    growthPct: startMiB > 0 ? ((endMiB - startMiB) / startMiB) * 100 : 0,
    slopeMiBPerMin: sxx > 0 ? (sxy / sxx) * 60 : 0,
    minMiB: Math.min(...ys),
    maxMiB: Math.max(...ys),
    samples: n,
  };
}

/** Judges the samples taken from `fromS` (end of warm-up) to `toS` (end of load). */
export function judge(samples: MemorySample[], fromS: number, toS: number, maxGrowthPct: number, maxGrowthMiB: number): MemoryVerdict {
  const window = samples.filter((s) => s.t >= fromS && s.t <= toS);
  const series = (key: 'rssMiB' | 'heapMiB') =>
    window.flatMap((s): Array<[number, number]> => (s[key] === null ? [] : [[s.t, s[key]]]));
  const rss = growth(series('rssMiB'));
  const heap = growth(series('heapMiB'));
  const allowance = rss ? Math.max((rss.startMiB * maxGrowthPct) / 100, maxGrowthMiB) : 0;
  return { rss, heap, flat: rss ? rss.growthMiB <= allowance : null };
}
