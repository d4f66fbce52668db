/**
 * The report as a reader sees it: laid out by headless Chromium at 1400 px,
 * nothing may stick out of the page, and the first screen says what ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyze } from '../../analyze.js';
import { chromiumOrSkip, dumpDom } from '../../../testing/browser.js';
import { DEFAULT_HOSTS, requestLines, writeRecordDir, type Hosts } from '../../../testing/analysis-records.js';

const WIDTH = 1400;

/** Run in the page: the document's width, elements whose box crosses main's content edge, and tables that scroll in their box. */
const PROBE = `<script>
const main = document.querySelector('main');
const box = main.getBoundingClientRect();
const edge = box.right - parseFloat(getComputedStyle(main).paddingRight);
const overflow = [];
for (const el of main.querySelectorAll('*')) {
  // What sits inside a scrolling box may be wider than it: the box scrolls, the page does not.
  if (el.parentElement.closest('.scroll, .chart')) continue;
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > edge + 0.5) overflow.push(el.tagName + (el.className ? '.' + el.className : '') + ' ' + Math.round(r.right - edge) + 'px');
}
const scrolling = [...document.querySelectorAll('.scroll')].filter((e) => e.scrollWidth > e.clientWidth + 1)
  .map((e) => e.closest('section')?.querySelector('h2')?.textContent ?? '?');
const first = [...main.querySelectorAll('.facts dt')].map((dt) => dt.textContent);
document.body.setAttribute('data-probe', JSON.stringify({ width: document.documentElement.scrollWidth, overflow, scrolling, first }));
</script>`;

const HOSTS: Hosts = {
  ...DEFAULT_HOSTS,
  caller: 'caller-0.load-generators.eu-west-1.compute.internal',
  gateway: 'gateway-0.frameworks-under-test.eu-west-1.compute.internal',
  worker: 'worker-0.functions.eu-west-1.compute.internal',
};

test('report at 1400 px in headless Chromium: nothing overflows, the first screen says what ran', async (t) => {
  const chromium = chromiumOrSkip();
  if ('skip' in chromium) return t.skip(chromium.skip);
  const frameworks = ['node', 'fastify', 'express', 'koa', 'hono'];
  const cells = [...[1, 10, 50, 150].map((c) => ({ fn: 'empty', c })), { fn: 'sleep', c: 150 }, { fn: 'math', c: 150 }, { fn: 'image', c: 20 }];
  const lines = { caller: [] as string[], gateway: [] as string[], worker: [] as string[] };
  let at = 0n;
  for (let round = 1; round <= 3; round++) {
    for (const { fn, c } of cells) {
      for (const framework of frameworks) {
        for (let k = 0; k < 30; k++) {
          const r = requestLines({ id: `c${framework}${fn}${c}r${round}-${k}`, at, framework, fn, connections: c, d: { respond: 30_000n + BigInt((k * 7919) % 20_000) } }, HOSTS);
          lines.caller.push(r.caller);
          lines.gateway.push(r.gateway);
          lines.worker.push(r.worker);
          at += 3_000_000n;
        }
      }
    }
    lines.caller.push(JSON.stringify({
      role: 'caller', type: 'sample', host: HOSTS.caller, pid: 7, label: 'node', t: String(HOSTS.callerBase + at), interval_ms: 1000, elu: 0.4,
      delay_p50_us: 100, delay_p99_us: 900, delay_max_us: 1200, cpu_user_us: 300_000, cpu_system_us: 50_000, rss_bytes: 7e7,
      gc_pause_us: 9_400, gc_max_pause_us: 1_800, gc_count: 14, inflight: 3,
    }));
  }
  const dir = await writeRecordDir(lines);
  try {
    await writeFile(join(dir, 'run.json'), JSON.stringify({
      startedAt: '2026-11-26T10:00:00.000Z', finishedAt: '2026-11-26T10:14:30.000Z', status: 'complete', mode: 'remote',
      host: { hostname: HOSTS.caller, cpu: 'AMD EPYC 7B13', cores: 2, memoryGiB: 7.8 },
      config: { frameworks, rounds: 3, rate: null, duration: '3s', requests: null, warmup: '1s', connections: 150 },
      cells: { planned: 105, done: 105 },
    }));
    const { files } = await analyze({ inputs: [dir], csv: false, resamples: 200 });
    const probed = join(dir, 'probed.html');
    await writeFile(probed, (await readFile(files.html, 'utf8')).replace('</body>', `${PROBE}</body>`));
    const dom = await dumpDom(chromium.path, probed, WIDTH);
    const attr = /data-probe="([^"]*)"/.exec(dom)?.[1];
    assert.ok(attr, 'the probe ran');
    const probe = JSON.parse(attr.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { width: number; overflow: string[]; scrolling: string[]; first: string[] };
    assert.ok(probe.width <= WIDTH, `page ${probe.width} px wide`);
    assert.deepEqual(probe.overflow, [], 'elements beyond the content edge');
    assert.ok(!probe.scrolling.includes('Host clocks'), `the clock table fits: ${probe.scrolling.join(', ')}`);
    assert.ok(!probe.scrolling.includes('How sure are these figures?'), `the intervals' table fits: ${probe.scrolling.join(', ')}`);
    for (const fact of ['frameworks', 'endpoints', 'connections', 'rounds', 'load', 'where', 'when']) assert.ok(probe.first.includes(fact), `first screen: ${fact}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
