/** The report's stylesheet, inlined so the page needs nothing else. Prints on A4 too. */
export const REPORT_CSS = `
:root { --fg: #1d1d1f; --muted: #666; --line: #e3e3e3; --accent: #e45756; --bg-soft: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
section { margin: 28px 0; padding-top: 4px; }
.meta { color: var(--muted); margin: 2px 0; }
.facts dl { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 2px 14px; margin: 10px 0; font-size: 13px; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.answer { background: var(--bg-soft); border-left: 4px solid var(--accent); padding: 14px 18px; border-radius: 4px; }
.answer .lead { font-size: 16px; margin: 0 0 10px; padding-left: 20px; }
.answer table { background: #fff; }
.warn { background: #fff6e5; border-left: 4px solid #f0a500; padding: 10px 18px; border-radius: 4px; }
.warn ul { margin: 4px 0; padding-left: 18px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12.5px; font-variant-numeric: tabular-nums; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 12px; padding-top: 4px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { font-weight: 600; border-bottom: 2px solid #ccc; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; }
td.wrap { white-space: normal; min-width: 160px; overflow-wrap: anywhere; }
.findings { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 13px; margin: 6px 0; }
.findings dt { font-weight: 600; }
.findings dd { margin: 0; }
.answer .verdict { font-size: 15px; margin: 10px 0; }
tbody tr:hover { background: var(--bg-soft); }
.chart { margin: 8px 0 4px; overflow-x: auto; max-width: 100%; }
.figure .chart svg { max-width: 100%; height: auto; }
.formula { color: var(--muted); font-size: 12px; white-space: nowrap; }
.note, .empty { color: var(--muted); font-size: 12.5px; }
details { margin: 6px 0; }
summary { cursor: pointer; color: #2a5db0; }
pre { background: var(--bg-soft); padding: 10px; overflow-x: auto; font-size: 12px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.method dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; font-size: 13px; }
.method dt { font-weight: 600; }
.method dd { margin: 0; }
@media print { main { padding: 0; } section { break-inside: avoid; } }
`;
