import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CellSummary } from '../../compute/cells.js';
import { CELL_STAGES } from '../../compute/cells.js';
import { payloadCells, payloadFigure } from './payload.js';

function cell(framework: string, endpoint: string, scale: number): CellSummary {
  const mean = Object.fromEntries(CELL_STAGES.map((s) => [s, 10 * scale])) as CellSummary['stage_mean_us'];
  return {
    framework,
    endpoint,
    connections: 4,
    measured: 100,
    requests_per_s: 1000,
    stage_mean_us: mean,
    stage_p50_us: mean,
    load: {},
    saturated: [],
    findings: [],
    notes: [],
  } as unknown as CellSummary;
}

test('payload cells are read from their endpoint names, ordered by front, format and size', () => {
  const cells = [
    cell('fastify+gzip', 'payload?bytes=65536&format=json', 4),
    cell('node', 'payload?bytes=65536&format=raw', 3),
    cell('node', 'payload?bytes=100&format=raw', 1),
    cell('node', 'empty', 1),
    cell('node', 'payload', 1),
  ];
  assert.deepEqual(
    payloadCells(cells).map((c) => `${c.cell.framework} ${c.format} ${c.bytes}`),
    ['node raw 100', 'node raw 65536', 'fastify+gzip json 65536'],
  );
});

test('the payload figure draws every stage against size, and is absent without payload cells', async () => {
  assert.equal(await payloadFigure([cell('node', 'empty', 1)]), '');
  const html = await payloadFigure([cell('node', 'payload?bytes=100&format=json', 1), cell('node', 'payload?bytes=1048576&format=json', 50)]);
  assert.match(html, /<h2>Stages against payload size<\/h2>/);
  assert.match(html, /<svg/);
  assert.match(html, /1,048,576|1048576/);
  assert.match(html, /payload bytes/);
});
