/** Small HTML helpers for the report: escaping and tables. */

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}


export interface Column<R> {
  head: string;
  cell: (row: R) => string;
  /** Right-aligned numbers. */
  num?: boolean;
  /** Prose that wraps instead of widening the table. */
  wrap?: boolean;
  title?: string;
}

/** A table; cells are already-escaped HTML. It scrolls in its own box, so a wide one never widens the page. */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[], caption?: string): string {
  const th = columns
    .map((c) => `<th${c.num ? ' class="num"' : ''}${c.title ? ` title="${esc(c.title)}"` : ''}>${c.head}</th>`)
    .join('');
  const body = rows
    .map((r) => `<tr>${columns.map((c) => `<td${c.num ? ' class="num"' : c.wrap ? ' class="wrap"' : ''}>${c.cell(r)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="scroll"><table>${caption ? `<caption>${caption}</caption>` : ''}<thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}
