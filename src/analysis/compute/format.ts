/** Numbers as the report and its warnings print them: shared by computation (warnings) and presentation (report/). */

const us1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** Microseconds, one decimal: durations in this report range from ~10 µs to seconds. */
export function fmtUs(v: number | undefined | null): string {
  return v === undefined || v === null || Number.isNaN(v) ? '–' : us1.format(v);
}

export function fmtInt(v: number | undefined | null): string {
  return v === undefined || v === null || Number.isNaN(v) ? '–' : int.format(v);
}

export function fmtPct(v: number | undefined | null): string {
  return v === undefined || v === null || !Number.isFinite(v) ? '–' : pct.format(v);
}

/** A duration in ns, shown in the unit that suits its size (offsets go from ns to hours); signed unless told not to. */
export function fmtNs(ns: number, signed = true): string {
  if (!Number.isFinite(ns)) return '–';
  const sign = ns < 0 ? '−' : ns > 0 && signed ? '+' : '';
  const a = Math.abs(ns);
  if (a >= 3600e9) {
    // Hours of offset still need µs precision beside a spread of µs: "+3 h 00 min 00.123457 s".
    const h = Math.floor(a / 3600e9);
    const min = Math.floor((a - h * 3600e9) / 60e9);
    const sec = (a - h * 3600e9 - min * 60e9) / 1e9;
    return `${sign}${h} h ${String(min).padStart(2, '0')} min ${sec.toFixed(6).padStart(9, '0')} s`;
  }
  if (a >= 1e9) return `${sign}${(a / 1e9).toFixed(6)} s`;
  if (a >= 1e6) return `${sign}${(a / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${sign}${(a / 1e3).toFixed(1)} µs`;
  return `${sign}${a.toFixed(0)} ns`;
}
