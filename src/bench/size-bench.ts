/**
 * What a run writes: every file of a run directory, its bytes and its bytes
 * per request (the caller's request records, warm-up included), and the
 * total against issue 32's target of 200 MB for the default run. Without
 * --dir it first runs `faasbench run` (the default experiment, or --quick) in
 * a temp dir and states its wall time too.
 *
 *   npm run bench:size [-- [--quick] [--dir RUN_DIR] [--keep] [-- run flags…]]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { CLI } from '../run/role-process.js';
import { scriptArgs, usageError } from './script-args.js';

const TARGET_BYTES = 200e6;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Request lines of the caller's records (gzipped or not): the run's request count. */
async function callerRequests(dir: string): Promise<number> {
  let n = 0;
  for (const name of ['caller.ndjson', 'caller.ndjson.gz']) {
    const path = join(dir, name);
    const exists = await stat(path).then(() => true, () => false);
    if (!exists) continue;
    const raw = createReadStream(path);
    const lines = createInterface({ input: name.endsWith('.gz') ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });
    for await (const line of lines) if (line.startsWith('{"role":"caller"')) n++;
  }
  return n;
}

async function main(): Promise<void> {
  const usage = 'usage: npm run bench:size -- [--quick] [--dir RUN_DIR] [--keep] [--run-flag FLAG…]';
  const fail = usageError('bench:size', usage);
  const values = scriptArgs(
    {
      options: {
        quick: { type: 'boolean', default: false },
        dir: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'run-flag': { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', default: false },
      },
    },
    usage,
    fail,
  );
  let dir = values.dir;
  let temp: string | undefined;
  if (dir === undefined) {
    temp = await mkdtemp(join(tmpdir(), 'faasbench-size-bench-'));
    dir = join(temp, 'run');
    const args = [CLI, 'run', '--out', dir, ...(values.quick ? ['--quick'] : []), ...values['run-flag']];
    process.stdout.write(`faasbench ${args.slice(1).join(' ')}\n`);
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) fail(`faasbench run exited ${code}`);
    process.stdout.write(`run: ${((Date.now() - started) / 1000).toFixed(0)} s wall, analysis included\n`);
  }
  try {
    const requests = await callerRequests(dir);
    if (requests === 0) fail(`${dir}: no caller records`);
    const files = await Promise.all((await filesUnder(dir)).map(async (p) => ({ name: relative(dir!, p), bytes: (await stat(p)).size })));
    const total = files.reduce((a, f) => a + f.bytes, 0);
    const width = Math.max(...files.map((f) => f.name.length), 5);
    process.stdout.write(`${requests.toLocaleString('en')} requests (caller records, warm-up included)\n`);
    process.stdout.write(`${'file'.padEnd(width)}  ${'MB'.padStart(9)}  bytes/request\n`);
    for (const f of files) {
      process.stdout.write(`${f.name.padEnd(width)}  ${(f.bytes / 1e6).toFixed(2).padStart(9)}  ${(f.bytes / requests).toFixed(1).padStart(13)}\n`);
    }
    const ok = total <= TARGET_BYTES || values.quick;
    process.stdout.write(
      `${'total'.padEnd(width)}  ${(total / 1e6).toFixed(2).padStart(9)}  ${(total / requests).toFixed(1).padStart(13)}` +
        `${values.quick || values.dir ? '' : `  (target for the default run: ${TARGET_BYTES / 1e6} MB: ${ok ? 'within' : 'OVER'})`}\n`,
    );
    process.stdout.write(JSON.stringify({ bench: 'size', requests, total_bytes: total, files: Object.fromEntries(files.map((f) => [f.name, f.bytes])) }) + '\n');
    if (!ok && !values.dir) process.exitCode = 1;
  } finally {
    if (temp && !values.keep) await rm(temp, { recursive: true, force: true });
    else if (temp) process.stdout.write(`kept ${dir}\n`);
  }
}

await main();
