/**
 * What bpftrace writes, turned into record lines: our own JSON lines as they
 * are; the buffered events it prints from the script's maps
 * (`@e<slot>[kind, sock, t, off]: len`, script.ts) as the record lines they
 * stand for (a `both` entry: its msg and send lines); `@put: N`, how many events the script stored; "Lost N events"
 * when its perf buffer overflowed. On stderr: a warning that it cannot raise
 * RLIMIT_MEMLOCK (harmless on kernels that account eBPF memory by cgroup), or
 * why it could not load.
 */
import { BOTH, EVENT_KINDS } from './script.js';

const EVENT = /^@e\d+\[(\d), (\d+), (\d+), (-?\d+)\]: (\d+)$/;
const PUT = /^@put: (\d+)$/;
const LOST = /^Lost (\d+) events$/;

export interface Output {
  /** Record lines, each ending in a newline. */
  records: string;
  /** Events bpftrace said it lost. */
  lost: number;
  /** Buffered events turned into records. */
  events: number;
  /** Events the script counted as stored (its `@put` lines). */
  put: number;
}

/** The record lines of a block of whole lines of the tracer whose record lines begin with `head` (kernelRecordHead). */
export function splitOutput(text: string, head: string): Output {
  let lost = 0;
  let events = 0;
  let put = 0;
  let records = '';
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = text.slice(from, to);
    from = to + 1;
    const c = line.charCodeAt(0);
    if (c === 123 /* { */) records += `${line}\n`;
    else if (c === 64 /* @ */) {
      const e = EVENT.exec(line);
      if (e) {
        events++;
        if (Number(e[1]) === BOTH) {
          // A message and its response's send: two lines, as if stored apart.
          records += `${head},"k":"msg","sock":${e[2]},"t":"${e[3]}"}\n${head},"k":"send","sock":${e[2]},"t":"${e[4]}"}\n`;
          continue;
        }
        const k = EVENT_KINDS[Number(e[1])];
        if (k === undefined) continue;
        records += `${head},"k":"${k}","sock":${e[2]},"t":"${e[3]}"${k === 'seg' ? `,"off":${e[4]},"len":${e[5]}` : ''}}\n`;
      } else put += Number(PUT.exec(line)?.[1] ?? 0);
    } else lost += Number(LOST.exec(line.trim())?.[1] ?? 0);
  }
  return { records, lost, events, put };
}

/** bpftrace's stderr without the RLIMIT_MEMLOCK warning, on one line. */
export function trimmedStderr(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.includes('RLIMIT_MEMLOCK'))
    .join(' ')
    .replace(/\s+/g, ' ');
}
