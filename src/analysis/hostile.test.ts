/**
 * `faasbench analyze` on hostile record files (issue 30), through the real
 * binary: records from machines the analyst does not control, or whose
 * strings a client chose. Every case ends in a clear result: lines skipped
 * and counted with a warning, or one line and exit 2, never a stack trace;
 * no control character reaches the terminal; no CSV cell runs as a formula;
 * no record string becomes live HTML.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { requestLines } from '../testing/analysis-records.js';
import { chromiumOrSkip, dumpDom } from '../testing/browser.js';
import { runCli, type CliResult } from '../testing/processes.js';
import type { Summary } from './compute/summary-types.js';

type Lines = { caller: string[]; gateway: string[]; worker: string[] };

function records(count: number, spec: { framework?: string; fn?: string } = {}): Lines {
  const lines: Lines = { caller: [], gateway: [], worker: [] };
  for (let k = 0; k < count; k++) {
    const r = requestLines({ id: `r${k}`, at: BigInt(k) * 400_000n, framework: spec.framework ?? 'node', fn: spec.fn ?? 'empty' });
    for (const role of ['caller', 'gateway', 'worker'] as const) lines[role].push(r[role]);
  }
  return lines;
}

/** Line k of a role with some fields changed. */
function edit(lines: Lines, role: keyof Lines, k: number, change: (r: Record<string, unknown>) => void): void {
  const r = JSON.parse(lines[role][k]!) as Record<string, unknown>;
  change(r);
  lines[role][k] = JSON.stringify(r);
}

async function withDir(files: Record<string, string | Buffer>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-hostile-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ndjson = (lines: readonly string[]) => lines.map((l) => `${l}\n`).join('');
const filesOf = (l: Lines, extra: Record<string, string | Buffer> = {}) => ({
  'caller.ndjson': ndjson(l.caller),
  'gateway.ndjson': ndjson(l.gateway),
  'worker.ndjson': ndjson(l.worker),
  ...extra,
});

const analyze = (dir: string, ...flags: string[]) => runCli(['analyze', dir, '--resamples', '200', ...flags], { timeoutMs: 120_000 });
const summaryOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'report', 'summary.json'), 'utf8')) as Summary;

/** Exit 0, no stack trace. */
function ok(r: CliResult): void {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** Exit 2 with one line of error (and the usual pointer to --help), no stack trace. */
function refused(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, message);
  assert.match(lines[1]!, /--help/);
}

/** Control characters that act on a terminal: ESC, CSI, CR, BEL, backspace, bidi overrides. */
const ACTING = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('a far-off or backwards stamp is a named, counted rejection: no crash, no silent zero', async () => {
  // Issue 30, finding 5: one t6 of 1e17 in 21 requests crashed the timeline with a TypeError.
  const few = records(21);
  edit(few, 'caller', 5, (r) => (r.t6 = 1e17));
  await withDir(filesOf(few), async (dir) => {
    const r = await analyze(dir, '--no-parquet');
    ok(r);
    const s = await summaryOf(dir);
    assert.equal(s.records.rejected['stamps out of order'], 1);
    assert.equal(s.records.by_role.caller, 20);
    assert.match(r.stdout, /warning: 1 line\(s\) could not be read and were skipped/);
  });
  // Among 200, a gateway's t5 and a worker's t3_end 10^21 ns away: the cell's throughput was 0, "outside the function" 100%.
  const many = records(200);
  edit(many, 'gateway', 5, (r) => (r.t5 = '999999999999999999999'));
  edit(many, 'worker', 7, (r) => (r.t3_end = '999999999999999999999'));
  edit(many, 'gateway', 7, (r) => (r.t3_end = '999999999999999999999'));
  edit(many, 'caller', 9, (r) => (r.t0_intended = '1'));
  await withDir(filesOf(many), async (dir) => {
    ok(await analyze(dir)); // requests.parquet too: a stamp beyond INT64 stopped its writer with a RangeError
    const s = await summaryOf(dir);
    // Gateway 5's t5 and caller 9's due time are far; worker 7's t3_end (in its record and the gateway's copy) is also after t3_send.
    assert.equal(s.records.rejected['stamps over 24.8 days apart'], 2);
    assert.equal(s.records.rejected['stamps out of order'], 2);
    const g = s.groups[0]!;
    assert.ok(g.throughput.requests_per_s > 100, `throughput ${g.throughput.requests_per_s}`);
    assert.ok(g.outside_function_share < 0.9, `outside the function ${g.outside_function_share}`);
  });
  // A record consistent in itself but 200 days after the others: no stamp is impossible, and the timeline keeps its cells apart.
  const late = records(50);
  edit(late, 'caller', 3, (r) => {
    const day = 86_400_000_000_000n;
    r.t0 = String(BigInt(r.t0 as string) + 200n * day);
    r.t6 = String(BigInt(r.t6 as string) + 200n * day);
  });
  await withDir(filesOf(late), async (dir) => ok(await analyze(dir, '--no-parquet')));
});

test('lines of the wrong shape are skipped and counted; only a file with nothing usable is an error', async () => {
  const bad = [
    'not json',
    '[1,2,3]',
    'null',
    '{"role":"caller","id":{"x":1},"t0":"1","t6":"2"}',
    '{"role":"caller","id":"w1","t0":[1],"t6":"2"}',
    '{"role":"caller","id":"w2","t0":true,"t6":"2"}',
    '{"role":"caller","id":"w3","t0":1e400,"t6":"2"}',
    '{"role":"caller","id":"w4","t0":"-5","t6":"NaN"}',
    '{"role":"caller","id":"w5","t0":"1.5","t6":"1e3"}',
    '{"role":"wizard","id":"w6"}',
    '{"role":"caller","id":""}',
    // Right stamps, wrong types elsewhere: read as absent.
    '{"role":"caller","id":"w7","t0":"5","t6":"9","host":5,"status":"200","connections":"x","path":7,"method":[],"label":{},"warmup":"yes"}',
    '{"role":"caller","id":"w7","t0":"5","t6":"9"}',
    '{"type":"sample","role":"gateway","t":"5","interval_ms":1e309,"elu":"x"}',
    '{"type":"clock","host":"h","t":"5","wall_ms":"now"}',
    // Deep nesting: JSON.parse reads it, the ingest skips the value.
    `{"role":"caller","id":"d1","t0":"1","t6":"2","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    '['.repeat(500_000),
  ];
  const utf8 = Buffer.concat([Buffer.from('{"role":"caller","id":"u1","host":"h'), Buffer.from([0xff, 0xc3]), Buffer.from('","t0":"1","t6":"5"}\n')]);
  await withDir(filesOf(records(30), { 'bad.ndjson': ndjson(bad), 'utf8.ndjson': utf8, 'torn.ndjson': '{"role":"caller","id":"t' }), async (dir) => {
    const r = await analyze(dir, '--no-parquet');
    ok(r);
    const s = await summaryOf(dir);
    assert.deepEqual(s.records.rejected, { 'not JSON': 3, 'not a JSON object': 2, 'no id': 2, 'unknown role': 1, 'bad stamp': 5, 'bad sample': 1, 'bad clock anchor': 1 });
    assert.equal(s.records.duplicates.caller, 1);
    assert.equal(s.records.by_role.caller, 30 + 3); // w7, d1, u1
    assert.match(r.stdout, /warning: 1 file\(s\) end in the middle of a line.*torn\.ndjson/);
  });
  await withDir({ 'junk.ndjson': 'x\n{"a":1}\n' }, async (dir) => {
    refused(await analyze(dir), /no records in 1 file\(s\) .*\(lines skipped: 1 not JSON, 1 no id\)/);
  });
});

test('a flood of host names is skipped past the clocks the table can hold, not a crash', async () => {
  const flood = Array.from({ length: 66_000 }, (_, k) => `{"role":"caller","id":"h${k}","host":"host${k}","t0":"1","t6":"5"}`);
  await withDir(filesOf(records(30), { 'flood.ndjson': ndjson(flood) }), async (dir) => {
    ok(await analyze(dir, '--no-parquet'));
    const s = await summaryOf(dir);
    const skipped = s.records.rejected['over 65,535 hosts']!;
    assert.ok(skipped > 0 && skipped < 1000, `${skipped} skipped`);
    // Past the cap every new host is skipped, the gateway's and worker's of the file read after the flood too.
    const read = s.records.by_role.caller + s.records.by_role.gateway + s.records.by_role.worker;
    assert.equal(read + skipped, 66_090);
  });
});

test('an endless line and a gzip bomb stop at their bound with one line naming the file', async () => {
  await withDir(filesOf(records(10), { 'long.ndjson': `{"role":"caller","id":"${'a'.repeat(2 << 20)}"}\n` }), async (dir) => {
    refused(await analyze(dir), /long\.ndjson: line 1 is longer than 1,048,576 bytes: not a record file/);
  });
  // 100 KB inflating to 100 MiB of newlines: past its bound of 64 MiB, refused before it is read to the end.
  await withDir({ 'bomb.ndjson.gz': gzipSync(Buffer.alloc(100 << 20, 0x0a), { level: 9 }) }, async (dir) => {
    refused(await analyze(dir), /bomb\.ndjson\.gz: inflates to more than 64 MiB.*a gzip bomb/);
  });
});

test('record strings reach the terminal with their control characters shown, not acting', async () => {
  const evil = 'ev\x1b[2J\x1b[31mil\rfaked line\x07\u009b31m\u202eX';
  const l = records(20, { framework: evil, fn: `f\x1b]0;title\x07n` });
  for (let k = 0; k < 20; k++) edit(l, 'caller', k, (r) => (r.host = `c\x1b[1A\nhost`));
  await withDir(filesOf(l), async (dir) => {
    const r = await analyze(dir, '--no-parquet', '--baseline', 'none');
    ok(r);
    assert.doesNotMatch(r.stdout, ACTING);
    assert.doesNotMatch(r.stderr, ACTING);
    assert.match(r.stdout, /ev\\x1b\[2J\\x1b\[31mil\\x0dfaked line\\x07\\x9b31m\\u202eX/);
    assert.match(r.stdout, /f\\x1b\]0;title\\x07n/);
  });
  // A file name is the user's, but may come from a collected archive: the error line naming it shows its escapes too.
  await withDir({ 'x\x1b[2Jy.ndjson': `${'a'.repeat(2 << 20)}\n` }, async (dir) => {
    const r = await analyze(dir);
    refused(r, /x\\x1b\[2Jy\.ndjson: line 1 is longer than/);
    assert.doesNotMatch(r.stderr, ACTING);
  });
});

test('requests.csv: a cell a spreadsheet would run as a formula is neutralised (OWASP), numbers are not', async () => {
  const l = records(8);
  const cells = ['=HYPERLINK("http://x","y")', '+SUM(1,2)', '-2+3', '@cmd', '\tlead', '\rcr'];
  cells.forEach((text, k) => {
    edit(l, 'caller', k, (r) => (r.error = text));
    edit(l, 'gateway', k, (r) => (r.error = text));
  });
  edit(l, 'gateway', 6, (r) => (r.error = 'plain, with "quotes"'));
  await withDir(filesOf(l), async (dir) => {
    ok(await analyze(dir, '--no-parquet', '--csv'));
    const csv = (await readFile(join(dir, 'report', 'requests.csv'), 'utf8')).split('\n');
    const head = csv[0]!.split(',');
    const row = (id: string) => csv.find((line) => line.startsWith(`${id},`))!;
    // RFC 4180 cells without a comma, quote or newline inside: split on commas outside quotes.
    const cellsOf = (line: string) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, ''));
    const at = (id: string, column: string) => cellsOf(row(id))[head.indexOf(column)];
    assert.equal(at('r0', 'gateway_error'), `"'=HYPERLINK(""http://x"",""y"")"`);
    assert.equal(at('r1', 'caller_error'), `"'+SUM(1,2)"`);
    assert.equal(at('r2', 'gateway_error'), `"'-2+3"`);
    assert.equal(at('r3', 'gateway_error'), `"'@cmd"`);
    assert.equal(at('r4', 'gateway_error'), `"'\tlead"`);
    assert.equal(at('r6', 'gateway_error'), `"plain, with ""quotes"""`);
    assert.equal(at('r7', 'gateway_error'), '');
    // Numbers stay numbers, a negative one included (none here is neutralised).
    assert.match(at('r0', 't1')!, /^\d+$/);
    assert.ok(csv.every((line) => !/(^|,)[=+@]/.test(line)), 'no unquoted cell starts with = + @');
  });
});

test('record strings in report.html are text, never live markup (headless Chromium)', async (t) => {
  const x = `<script>document.title='PWNED'</script><img src=x onerror="document.body.setAttribute('data-pwned','1')"></script>"'&`;
  const l = records(30, { framework: x, fn: x });
  for (let k = 0; k < 30; k++) {
    edit(l, 'caller', k, (r) => Object.assign(r, { host: x, error: k % 2 ? x : null, label: x, path: `/${x}` }));
    edit(l, 'gateway', k, (r) => Object.assign(r, { host: x, error: k % 3 ? null : x, worker: x, balance: x }));
    edit(l, 'worker', k, (r) => Object.assign(r, { host: x, instance: x }));
  }
  await withDir(filesOf(l), async (dir) => {
    ok(await analyze(dir, '--no-parquet', '--baseline', x));
    const html = await readFile(join(dir, 'report', 'report.html'), 'utf8');
    // The page as text: no tag of the record's (its quotes may stay raw in text, where they are inert, as in vega's SVG labels).
    assert.doesNotMatch(html, /<script>document\.title|<img src=x/);
    assert.match(html, /&(lt|#60);script&(gt|#62);document\.title/);
    const chromium = chromiumOrSkip();
    if ('skip' in chromium) return t.skip(chromium.skip);
    // The page as a browser runs it (its own scripts draw the charts from embedded data).
    const dom = await dumpDom(chromium.path, join(dir, 'report', 'report.html'), 1200);
    assert.doesNotMatch(dom, /<body[^>]*data-pwned/);
    assert.doesNotMatch(dom, /<title>PWNED/);
    assert.doesNotMatch(dom, /<img src="x"/);
    assert.match(dom, /&lt;script&gt;document\.title/, 'the string is on the page, as text');
  });
});

test('record strings in lifecycle.html are text, never live markup (backoff and interference pages, headless Chromium)', async (t) => {
  const x = `<script>document.title='PWNED'</script><img src=x onerror="document.body.setAttribute('data-pwned','1')"></script>"'&`;
  // Labels name the instance experiment: "gap G" a backoff, "neighbour" and "fault K" an interference.
  const pages = {
    // A gap that is no duration is no gap: skipped, not a crash (it was a stack trace).
    backoff: (l: ReturnType<typeof records>, k: number) => edit(l, 'caller', k, (r) => Object.assign(r, { label: k % 2 ? `gap ${(k % 3) + 1}s` : `gap ${x}` })),
    interference: (l: ReturnType<typeof records>, k: number) => {
      edit(l, 'caller', k, (r) => Object.assign(r, { label: k % 2 ? 'neighbour' : `fault ${x}` }));
      edit(l, 'gateway', k, (r) => Object.assign(r, { error: k % 2 ? null : x }));
    },
  };
  const chromium = chromiumOrSkip();
  for (const [experiment, label] of Object.entries(pages)) {
    const l = records(30);
    for (let k = 0; k < 30; k++) label(l, k);
    await withDir(filesOf(l), async (dir) => {
      ok(await analyze(dir, '--no-parquet'));
      const page = join(dir, 'report', 'lifecycle.html');
      const html = await readFile(page, 'utf8');
      assert.match(html, new RegExp(`${experiment} experiment`), `${experiment}: the page of that experiment`);
      assert.doesNotMatch(html, /<script>document\.title|<img src=x/, experiment);
      if (experiment === 'backoff') assert.match(html, /<td>1s<\/td>/, 'the valid gaps are on the page');
      else assert.match(html, /&(lt|#60);script&(gt|#62);document\.title/, `${experiment}: the string is on the page, as text`);
      if ('skip' in chromium) return;
      const dom = await dumpDom(chromium.path, page, 1200);
      assert.doesNotMatch(dom, /<body[^>]*data-pwned/, experiment);
      assert.doesNotMatch(dom, /<title>PWNED/, experiment);
      assert.doesNotMatch(dom, /<img src="x"/, experiment);
    });
  }
  if ('skip' in chromium) t.skip(chromium.skip);
});
