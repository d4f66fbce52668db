/**
 * A record file's lines as plain objects, for the experiment pages that read
 * a whole run's records as they are (fleet.html, compose.html): plain or
 * gzipped, a missing file is none, a line that is not a JSON object (a torn
 * last line) is skipped (the main analysis names it). Read through the same
 * bounded reader as the analysis (ndjson.ts): a gzip bomb or an endless line
 * stops with an AnalysisInputError instead of filling the memory.
 */
import { access } from 'node:fs/promises';
import { readLines } from './ndjson.js';

export type RecordLine = Record<string, unknown>;

export async function readRecordLines(file: string): Promise<RecordLine[]> {
  if (!(await access(file).then(() => true, () => false))) return [];
  const out: RecordLine[] = [];
  await readLines(file, {
    line(buf, start, end) {
      try {
        const r = JSON.parse(buf.toString('utf8', start, end)) as unknown;
        if (typeof r === 'object' && r !== null && !Array.isArray(r)) out.push(r as RecordLine);
      } catch {
        // Not JSON: a torn last line.
      }
    },
  });
  return out;
}
