/**
 * The payload figure: every stage against the size of the answer, for the
 * cells of `/payload?bytes=N&format=F` (their gateway records name size and
 * format). Bytes should grow the RPC link, respond and the caller link, and
 * leave the function flat: where they do not, the size is not what costs.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CellSummary } from '../../compute/cells.js';
import { fmtInt, fmtUs } from '../../compute/format.js';
import { byFramework } from '../../compute/order.js';
import { PARTS, STAGE_NAMES } from '../../compute/stages.js';
import { renderSvg } from './charts.js';
import { esc, table, type Column } from './html.js';

const PAYLOAD = /^payload\?bytes=(\d+)&format=(json|raw)$/;

export interface PayloadCell {
  cell: CellSummary;
  bytes: number;
  format: string;
}

export function payloadCells(cells: readonly CellSummary[]): PayloadCell[] {
  const out: PayloadCell[] = [];
  for (const cell of cells) {
    const m = PAYLOAD.exec(cell.endpoint);
    if (m && cell.measured > 0) out.push({ cell, bytes: Number(m[1]), format: m[2]! });
  }
  return out.sort((a, b) => byFramework(a.cell.framework, b.cell.framework) || a.format.localeCompare(b.format) || a.bytes - b.bytes);
}

export function payloadSpec(cells: readonly PayloadCell[]): TopLevelSpec | null {
  const rows = cells.flatMap(({ cell, bytes, format }) =>
    [...PARTS, 'roundtrip' as const].map((stage) => ({
      front: `${cell.framework} ${format}`,
      stage: stage === 'roundtrip' ? 'roundtrip' : STAGE_NAMES[stage],
      bytes,
      // A log axis has no zero: a stage below 1 µs is drawn at 1 µs.
      us: Math.max(1, cell.stage_mean_us[stage]),
    })),
  );
  if (rows.length === 0) return null;
  const stages = [...PARTS.map((p) => STAGE_NAMES[p]), 'roundtrip'];
  return {
    data: { values: rows },
    facet: { field: 'stage', type: 'nominal', sort: stages, title: null },
    columns: 4,
    spec: {
      width: 220,
      height: 170,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'bytes', type: 'quantitative', scale: { type: 'log' }, title: 'payload bytes', axis: { format: '~s' } },
        y: { field: 'us', type: 'quantitative', scale: { type: 'log' }, title: 'mean µs' },
        color: { field: 'front', type: 'nominal', title: 'front, format', legend: { orient: 'bottom', columns: 5 } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

/** The figure and its table; empty when the run had no /payload cells. */
export async function payloadFigure(cells: readonly CellSummary[]): Promise<string> {
  const mine = payloadCells(cells);
  if (mine.length === 0) return '';
  const spec = payloadSpec(mine);
  const cols: Column<PayloadCell>[] = [
    { head: 'front', cell: (r) => esc(r.cell.framework) },
    { head: 'format', cell: (r) => esc(r.format) },
    { head: 'bytes', cell: (r) => fmtInt(r.bytes), num: true },
    { head: 'conns', cell: (r) => fmtInt(r.cell.connections), num: true },
    ...PARTS.map((p) => ({ head: esc(STAGE_NAMES[p]), cell: (r: PayloadCell) => fmtUs(r.cell.stage_mean_us[p]), num: true })),
    { head: 'roundtrip', cell: (r) => `<strong>${fmtUs(r.cell.stage_mean_us.roundtrip)}</strong>`, num: true },
    { head: 'saturated', cell: (r) => esc(r.cell.saturated.join(', ')) },
  ];
  return `<section class="figure"><h2>Stages against payload size</h2>
<p>Mean µs of each stage per <code>/payload</code> size, one line per front and format (a front marked +gzip compresses its answers).
The size should grow the RPC link, respond and the caller link and leave the function flat; compression shows in respond, JSON against raw
in worker out (msgpack encoding) and respond (the gateway's JSON.stringify). Log scales; each panel its own.</p>
<div class="chart">${spec ? await renderSvg(spec) : '<p class="empty">No data for this figure.</p>'}</div>
${table(mine, cols, 'Mean µs per stage; the seven add up to the mean roundtrip.')}</section>`;
}
