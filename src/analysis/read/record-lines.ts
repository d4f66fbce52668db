/**
 * A record file's lines as plain objects, for the experiment pages that read
 * a whole run's records as they are (fleet.html, compose.html): plain or
 * gzipped, a missing file is none, a torn last line is skipped (the main
 * analysis names it).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export type RecordLine = Record<string, unknown>;

export async function readRecordLines(file: string): Promise<RecordLine[]> {
  const raw = await readFile(file).catch(() => null);
  if (!raw) return [];
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const out: RecordLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as RecordLine);
    } catch {
      // A torn last line.
    }
  }
  return out;
}
