/** A one-line progress display on a terminal (stderr), redrawn in place. */
import type { CallerProgress } from './options.js';

export interface ProgressLine {
  update(p: CallerProgress): void;
  /** Clears the line, so the summary starts on a clean one. */
  done(): void;
}

export function progressLine(stream: NodeJS.WriteStream, prefix = ''): ProgressLine {
  let last = { at: 0, completed: 0 };
  let drawn = false;
  return {
    update(p) {
      const rate = p.elapsedMs > last.at ? ((p.completed - last.completed) * 1000) / (p.elapsedMs - last.at) : 0;
      last = { at: p.elapsedMs, completed: p.completed };
      const secs = (p.elapsedMs / 1000).toFixed(0);
      const of = p.plannedMs === null ? '' : `/${(p.plannedMs / 1000).toFixed(0)}`;
      let bar = '';
      if (p.plannedMs !== null) {
        const filled = Math.min(20, Math.round((p.elapsedMs / p.plannedMs) * 20));
        bar = `[${'#'.repeat(filled)}${'.'.repeat(20 - filled)}] `;
      }
      const text = `${prefix}${p.phase.padEnd(7)} ${bar}${secs}${of} s  ${p.completed} done  ${p.errors} failed  ${p.inFlight} in flight  ${rate.toFixed(0)} req/s`;
      stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
