/**
 * The worker set's sources: a real file, written as users and scalers write
 * it (atomically by rename, and in place), and names resolved by a lookup the
 * test controls. Changes are waited for as they arrive, never timed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { FleetSource, parseWorkersFile } from './fleet-sources.js';

const logger = pino({ level: 'silent' });

test('a workers file: one HOST:PORT a line, comments and blank lines skipped, a bad line named', () => {
  assert.deepEqual(parseWorkersFile('# the fleet\n10.0.0.1:7070\n\n  10.0.0.2:7070  # second\n10.0.0.1:7070\n[::1]:7071\n'), [
    '10.0.0.1:7070',
    '10.0.0.2:7070',
    '[::1]:7071',
  ]);
  assert.deepEqual(parseWorkersFile(''), []);
  assert.throws(() => parseWorkersFile('10.0.0.1:7070\nhttp://x:1\n', 'w.txt'), /w\.txt line 2: worker address must be HOST:PORT/);
});

/** The source's timers and watchers do not hold a process open (a gateway's server does): a test must. */
function keepAlive(): () => void {
  const t = setInterval(() => {}, 1000);
  return () => clearInterval(t);
}

/** The sets a source applies, as they come. */
function collector() {
  const sets: string[][] = [];
  let wake: (() => void) | null = null;
  return {
    sets,
    apply: (a: string[]) => {
      sets.push(a);
      wake?.();
    },
    /** Resolves once `n` sets have been applied (the test's hang guard bounds it). */
    async count(n: number) {
      while (sets.length < n) await new Promise<void>((r) => (wake = r));
    },
  };
}

test('the file is watched: a rename over it and a write in place are both seen; a broken write keeps the set', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-fleet-file-'));
  const file = join(dir, 'workers');
  await writeFile(file, '127.0.0.1:7001\n');
  const c = collector();
  const source = new FleetSource({ workers: ['127.0.0.1:7000'], workersFile: file, resolveIntervalMs: 0, apply: c.apply, logger });
  const release = keepAlive();
  try {
    await source.start();
    assert.deepEqual(c.sets, [['127.0.0.1:7000', '127.0.0.1:7001']]);
    await writeFile(join(dir, 'workers.tmp'), '127.0.0.1:7001\n127.0.0.1:7002\n');
    await rename(join(dir, 'workers.tmp'), file);
    await c.count(2);
    assert.deepEqual(c.sets[1], ['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002']);
    // Not an address: ignored, the set stays; the next good write is applied.
    await writeFile(file, 'not an address\n');
    await writeFile(file, '127.0.0.1:7003\n');
    await c.count(3);
    assert.deepEqual(c.sets[2], ['127.0.0.1:7000', '127.0.0.1:7003']);
    assert.ok(c.sets.every((s) => s.every((a) => /^127\.0\.0\.1:\d+$/.test(a))), JSON.stringify(c.sets));
  } finally {
    release();
    source.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file that cannot be read or parsed at start is an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-fleet-file-'));
  try {
    const missing = new FleetSource({ workers: [], workersFile: join(dir, 'none'), resolveIntervalMs: 0, apply: () => {}, logger });
    await assert.rejects(missing.start(), /ENOENT/);
    await writeFile(join(dir, 'bad'), 'x\n');
    const bad = new FleetSource({ workers: [], workersFile: join(dir, 'bad'), resolveIntervalMs: 0, apply: () => {}, logger });
    await assert.rejects(bad.start(), /line 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('names are resolved to every address, again each interval; a name gone empties, a failed lookup keeps the last', { timeout: 60_000 }, async () => {
  const answers: Array<string[] | NodeJS.ErrnoException> = [
    ['10.0.0.2', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.3', 'fd00::1'],
    Object.assign(new Error('temporary'), { code: 'EAI_AGAIN' }),
    Object.assign(new Error('gone'), { code: 'ENOTFOUND' }),
  ];
  const asked: string[] = [];
  const c = collector();
  const source = new FleetSource({
    workers: ['workers.svc:7070', '192.168.1.9:7070'],
    resolveIntervalMs: 5,
    apply: c.apply,
    logger,
    lookup: async (host) => {
      asked.push(host);
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (a instanceof Error) throw a;
      return a;
    },
  });
  const release = keepAlive();
  try {
    await source.start();
    await c.count(3);
    assert.deepEqual(c.sets, [
      ['10.0.0.1:7070', '10.0.0.2:7070', '192.168.1.9:7070'],
      ['10.0.0.1:7070', '10.0.0.3:7070', '[fd00::1]:7070', '192.168.1.9:7070'],
      // EAI_AGAIN changed nothing (no set applied); ENOTFOUND: the name has no workers.
      ['192.168.1.9:7070'],
    ]);
    assert.ok(asked.every((h) => h === 'workers.svc'), 'IP addresses are not looked up');
  } finally {
    release();
    source.close();
  }
});
