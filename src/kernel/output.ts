/**
 * What bpftrace writes besides our record lines: "Lost N events" in its
 * output when its ring buffer overflowed, and on stderr a warning that it
 * cannot raise RLIMIT_MEMLOCK (harmless on kernels that account eBPF memory
 * by cgroup), or why it could not load.
 */

/** A line that is not a record: `{` starts every line our script prints. */
const OTHER_LINE = /(^|\n)[^{]/;
const LOST = /^Lost (\d+) events$/;

/** The record lines of a block of whole lines, and the events bpftrace said it lost in it. */
export function splitOutput(text: string): { records: string; lost: number } {
  if (!OTHER_LINE.test(text)) return { records: text, lost: 0 };
  let lost = 0;
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (line.charCodeAt(0) === 123 /* { */) kept.push(line);
    else lost += Number(LOST.exec(line.trim())?.[1] ?? 0);
  }
  return { records: kept.length ? `${kept.join('\n')}\n` : '', lost };
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
