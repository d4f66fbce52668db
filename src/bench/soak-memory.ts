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
  /** The lowest value in the first fifth of the window and in the last fifth:
   *  the floor the garbage collector comes back to, which a sawtooth hides
   *  from single samples. A leak raises it. */
  floorStartMiB: number;
  floorEndMiB: number;
  floorGrowthMiB: number;
  floorGrowthPct: number;
  samples: number;
}

export interface MemoryVerdict {
  rss: Growth | null;
  heap: Growth | null;
  /** The lowest value in each minute after the warm-up: a step is not a leak, a climb is. */
  floorsPerMinute: { rssMiB: number[]; heapMiB: number[] };
  /** RSS floor growth within the allowance (maxGrowthPct of the start floor, and at least maxGrowthMiB). */
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
  const fifth = Math.max(edge, Math.floor(points.length / 5));
  const floorStartMiB = Math.min(...ys.slice(0, fifth));
  const floorEndMiB = Math.min(...ys.slice(-fifth));
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
    floorStartMiB,
    floorEndMiB,
    floorGrowthMiB: floorEndMiB - floorStartMiB,
    floorGrowthPct: floorStartMiB > 0 ? ((floorEndMiB - floorStartMiB) / floorStartMiB) * 100 : 0,
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
  const allowance = rss ? Math.max((rss.floorStartMiB * maxGrowthPct) / 100, maxGrowthMiB) : 0;
  const floors = (key: 'rssMiB' | 'heapMiB') => {
    const out: number[] = [];
    const last = Math.max(0, Math.floor((toS - fromS) / 60) - 1); // a part minute at the end joins the one before
    for (const [t, y] of series(key)) {
      const minute = Math.min(Math.floor((t - fromS) / 60), last);
      out[minute] = Math.min(out[minute] ?? Infinity, y);
    }
    return Array.from(out, (y) => (y === undefined ? NaN : Math.round(y * 10) / 10));
  };
  return { rss, heap, floorsPerMinute: { rssMiB: floors('rssMiB'), heapMiB: floors('heapMiB') }, flat: rss ? rss.floorGrowthMiB <= allowance : null };
}

/** A live process's resident memory by kind, MiB, from /proc/<pid>/smaps: glibc's main heap (brk), other anonymous memory (V8's pages, glibc's other arenas and mapped blocks, stacks), files. */
export function rssByKind(pid: number): { brk: number; anon: number; files: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return null;
  }
  const kb = { brk: 0, anon: 0, files: 0 };
  let kind: keyof typeof kb = 'anon';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1]!;
      kind = name === '[heap]' ? 'brk' : name === '' || name.startsWith('[') ? 'anon' : 'files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[kind] += Number(rss[1]);
  }
  return { brk: Math.round(kb.brk / 1024), anon: Math.round(kb.anon / 1024), files: Math.round(kb.files / 1024) };
}
