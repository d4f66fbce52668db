/**
 * `npm run soak:attack -- [--phase 20s] [--rate 300] [--connections 20] [--framework node] [--only NAME,NAME] [--out DIR]`
 * (--only: these attacks of attacks.ts alone)
 *
 * Starts a worker (with a secret), an HTTP gateway and a TCP front, drives a
 * steady open-loop `/empty` load on the gateway with the caller through three
 * phases (before, during, after), and during the middle one runs every
 * attack of attacks.ts at once against the gateway, the front and the worker.
 * Prints, per phase, the steady load's p50/p99 and failures (no answer, or
 * not 200), how many requests it issued of those planned (it sends for the
 * whole phase, behind its plan or not), and the peak RSS of each process, each process's RSS at the start
 * and at the end, then what each attack was answered. Each phase lasts
 * --phase (default 20 s: a minute in all). Exit status 0 when the load kept
 * answering during the attacks (sent for the whole phase, at least 80% of
 * its plan, at least 99% of it answered 200), the load after them was answered without failures, every process is alive, and
 * each one's memory is back within 20% of its start; 1 when not; 2 on a
 * usage error.
 *
 * The worker serves the bundled functions, except that `image` answers a
 * result over the 32 MiB frame limit at width=4095 (the bundled one cannot
 * since its output is bounded), so the oversized-result path is exercised.
 *
 * The worker's instances end after `--keep-warm 10s` idle, so that what
 * the attacks made them cache is gone by the end of the last phase.
 *
 * Not part of `npm test`; run it under `quiet` (or `flock /tmp/faasbench-bench.lock`).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCaller, type CallerResult } from '../caller/run-caller.js';
import { parseDuration } from '../flags.js';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { MAX_FRAME_BYTES } from '../rpc/protocol.js';
import { connectedToWorker, startRole } from '../run/role-process.js';
import type { AttackTally } from './attacks.js';
import { rssByKind, rssMiB } from './soak-memory.js';
import { scriptArgs, usageError } from './script-args.js';

const USAGE = 'usage: npm run soak:attack -- [--phase 20s] [--rate 300] [--connections 20] [--framework node] [--only NAME,NAME] [--out DIR]';
const fail: (message: string) => never = usageError('soak:attack', USAGE);
const values = scriptArgs(
  {
    options: {
      phase: { type: 'string', default: '20s' },
      rate: { type: 'string', default: '300' },
      connections: { type: 'string', default: '20' },
      framework: { type: 'string', default: 'node' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  },
  USAGE,
  fail,
);
let phaseMs: number;
try {
  phaseMs = parseDuration(values.phase, '--phase');
} catch (err) {
  fail((err as Error).message);
}
const rate = Number(values.rate);
const connections = Number(values.connections);
if (!(phaseMs >= 5000 && phaseMs <= 600_000)) fail('--phase must be from 5s to 10m');
if (!(rate >= 1 && rate <= 20_000)) fail('--rate must be 1..20000 requests per second');
if (!Number.isInteger(connections) || connections < 1 || connections > 1000) fail('--connections must be 1..1000');
if (!(FRAMEWORKS as readonly string[]).includes(values.framework)) fail(`--framework must be one of ${FRAMEWORKS.join(', ')}`);

const outDir = resolve(values.out ?? join('results', `soak-attack-${new Date().toISOString().replace(/[:.]/g, '-')}`));
const fnDir = join(outDir, 'functions');
mkdirSync(fnDir, { recursive: true });
const bundled = (name: string) => JSON.stringify(fileURLToPath(new URL(`../../functions/${name}.js`, import.meta.url)));
for (const name of ['empty', 'sleep', 'math', 'payload']) writeFileSync(join(fnDir, `${name}.mjs`), `export { default } from ${bundled(name)};\n`);
writeFileSync(
  join(fnDir, 'image.mjs'),
  `import image from ${bundled('image')};\n` +
    `export default { ...image, run: (args, context) => args.width === 4095 ? new Uint8Array(${MAX_FRAME_BYTES + 1024}) : image.run(args, context) };\n`,
);
writeFileSync(join(outDir, 'README'), 'functions/: the bundled ones, with image answering 33 MiB at width=4095.\n');

const say = (line: string) => process.stderr.write(`soak:attack: ${line}\n`);
const secret = randomBytes(16).toString('hex');
// The roles get soak-heap.js preloaded (as in soak.ts): their JS heap and Buffers, beside RSS.
const heapDir = join(outDir, 'heap');
mkdirSync(heapDir, { recursive: true });
const savedOptions = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = `${savedOptions ?? ''} --import=${new URL('./soak-heap.js', import.meta.url).href}`.trim();
process.env.FAASBENCH_SOAK_HEAP_DIR = heapDir;
const worker = await startRole(['worker', '--port', '0', '--functions', fnDir, '--secret', secret, '--keep-warm', '10s'], 'worker listening');
const gateway = await startRole(
  ['gateway', '--framework', values.framework, '--port', '0', '--worker', String(worker.ready.address), '--secret', secret],
  'gateway listening',
);
const front = await startRole(['gateway', '--framework', 'tcp', '--port', '0', '--worker', String(worker.ready.address), '--secret', secret], 'gateway listening');
if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = savedOptions;
delete process.env.FAASBENCH_SOAK_HEAP_DIR;
await connectedToWorker(gateway);
await connectedToWorker(front);
const base = String(gateway.ready.url);
const targets = { gateway: base, front: String(front.ready.url).slice('tcp://'.length), worker: String(worker.ready.address), secret };
const ROLES = ['gateway', 'front', 'worker'] as const;
type RoleName = (typeof ROLES)[number];
const pids: Record<RoleName, number> = { gateway: gateway.proc.pid!, front: front.proc.pid!, worker: worker.proc.pid! };
let stopping = false;
const died: string[] = [];
for (const [name, role] of Object.entries({ gateway, front, worker })) {
  role.proc.once('exit', (code, signal) => !stopping && died.push(`${name} exited (${signal ?? code})`));
}

// Peak RSS per phase, sampled every 250 ms; the start is the end of the first phase, the end that of the last.
type Phase = 'before' | 'during' | 'after';
const zero = (): Record<RoleName, number> => ({ gateway: 0, front: 0, worker: 0 });
const peak: Record<Phase, Record<RoleName, number>> = { before: zero(), during: zero(), after: zero() };
const rssNow = (): Record<RoleName, number> => ({ gateway: rssMiB(pids.gateway) ?? 0, front: rssMiB(pids.front) ?? 0, worker: rssMiB(pids.worker) ?? 0 });
/** JS heap in use and memory outside it (Buffers), MiB, as the role last wrote them. */
const heapNow = (): Record<RoleName, { heapMiB: number; externalMiB: number } | null> => {
  const of = (pid: number) => {
    try {
      const h = JSON.parse(readFileSync(join(heapDir, `heap-${pid}.json`), 'utf8')) as { heapUsed: number; external: number };
      return { heapMiB: Math.round(h.heapUsed / 2 ** 20), externalMiB: Math.round(h.external / 2 ** 20) };
    } catch {
      return null;
    }
  };
  return { gateway: of(pids.gateway), front: of(pids.front), worker: of(pids.worker) };
};
let phase: Phase = 'before';
const sampler = setInterval(() => {
  const now = rssNow();
  for (const role of ROLES) peak[phase][role] = Math.max(peak[phase][role], now[role]);
}, 250);
const load: Record<string, number[]> = {};

const interrupted = new AbortController();
process.once('SIGINT', () => interrupted.abort());
process.once('SIGTERM', () => interrupted.abort());

async function steady(p: Phase): Promise<CallerResult> {
  phase = p;
  say(`${p}: ${rate} req/s of GET /empty for ${phaseMs / 1000} s`);
  return runCaller({
    url: `${base}/empty`,
    rate,
    connections,
    durationMs: phaseMs,
    // Only the first phase warms up; the others start where the previous ended.
    warmupMs: p === 'before' ? 3000 : 0,
    timeoutMs: 10_000,
    out: join(outDir, 'caller.ndjson'),
    label: p,
    signal: interrupted.signal,
    // The load runs the whole phase, behind its plan or not: how it fares under the attacks is the figure.
    stopWhenBehind: false,
  });
}

/**
 * Diagnostic, after the figures are read and judged: each role runs one full
 * collection (soak-heap.js, asked by a file) and says what is left. Buffers
 * that go then were garbage no collection had reached (the reclaim waits for
 * 64 MiB); those that stay are held. Not part of the verdict.
 */
interface AfterGc {
  heapMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  rssMiB: number;
  byKind: ReturnType<typeof rssByKind>;
}
async function forcedCollection(): Promise<Record<RoleName, AfterGc | null>> {
  for (const r of ROLES) writeFileSync(join(heapDir, `gc-${pids[r]}`), '');
  const mib = (b: number) => Math.round(b / 2 ** 20);
  const read = (r: RoleName): AfterGc | null => {
    try {
      const h = JSON.parse(readFileSync(join(heapDir, `gc-${pids[r]}.json`), 'utf8')) as { heapUsed: number; heapTotal: number; external: number; rss: number };
      return { heapMiB: mib(h.heapUsed), heapTotalMiB: mib(h.heapTotal), externalMiB: mib(h.external), rssMiB: mib(h.rss), byKind: rssByKind(pids[r]) };
    } catch {
      return null;
    }
  };
  for (let i = 0; i < 50 && ROLES.some((r) => read(r) === null); i++) await new Promise((res) => setTimeout(res, 100));
  return Object.fromEntries(ROLES.map((r) => [r, read(r)])) as Record<RoleName, AfterGc | null>;
}

const results = {} as Record<Phase, CallerResult>;
load.start = loadavg();
results.before = await steady('before');
const startRss = rssNow();
const startHeap = heapNow();
// The attacks run in a process of their own for the length of the phase.
const attackArgs = [fileURLToPath(new URL('./attacks.js', import.meta.url)), JSON.stringify(targets), String(phaseMs / 1000), ...(values.only ? [values.only] : [])];
const attacker = spawn(process.execPath, attackArgs, {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let attackOut = '';
attacker.stdout.on('data', (d: Buffer) => (attackOut += d));
const attackerExit = once(attacker, 'exit');
results.during = await steady('during');
const stopKill = setTimeout(() => attacker.kill('SIGKILL'), 30_000);
const [attackerCode, attackerSignal] = (await attackerExit) as [number | null, NodeJS.Signals | null];
clearTimeout(stopKill);
let tallies: Record<string, AttackTally>;
try {
  tallies = JSON.parse(attackOut) as Record<string, AttackTally>;
} catch {
  tallies = { attacker: { outcomes: { [`no tallies: the attack process failed (exit ${attackerSignal ?? attackerCode}, output ${JSON.stringify(attackOut.slice(0, 200))})`]: 1 }, bound: '' } };
}
results.after = await steady('after');
const endRss = rssNow();
const endHeap = heapNow();
load.end = loadavg();
const afterGc = await forcedCollection();
clearInterval(sampler);
stopping = true;
const exitCodes = { gateway: await gateway.stop(), front: await front.stop(), worker: await worker.stop() };
// Each role's log (its last 2000 lines), for what the summary does not say.
for (const [name, role] of Object.entries({ gateway, front, worker })) writeFileSync(join(outDir, `${name}.log`), role.logs.join('\n') + '\n');

const failures = (r: CallerResult) =>
  r.errorCount + Object.entries(r.statusCounts).reduce((n, [status, k]) => (status === '200' ? n : n + k), 0);
const memoryBack = Object.fromEntries(ROLES.map((r) => [r, endRss[r] <= startRss[r] * 1.2])) as Record<RoleName, boolean>;
// The load kept answering through the attacks: sent for the whole phase, at least 80% of its plan (the caller's own
// limit: its connections wait for answers, so a stalled gateway shows as sends not made), and at most 1% not answered 200.
const answered = (r: CallerResult) => (r.requests > 0 ? (r.requests - failures(r)) / r.requests : 0);
const issuedShare = (r: CallerResult) => (r.arrivals && r.arrivals.planned > 0 ? r.arrivals.issued / r.arrivals.planned : 0);
const keptAnswering =
  results.during.window.seconds >= 0.95 * (phaseMs / 1000) && issuedShare(results.during) >= 0.8 && answered(results.during) >= 0.99;
const ok =
  died.length === 0 && keptAnswering && failures(results.after) === 0 && Object.values(memoryBack).every(Boolean) && !interrupted.signal.aborted;
const summary = {
  ok,
  command: `soak:attack ${process.argv.slice(2).join(' ')}`.trim(),
  node: process.version,
  framework: values.framework,
  rate,
  connections,
  phaseSeconds: phaseMs / 1000,
  phases: Object.fromEntries(
    (['before', 'during', 'after'] as const).map((p) => [
      p,
      {
        windowSeconds: results[p].window.seconds,
        requests: results[p].requests,
        answered200: results[p].requests - failures(results[p]),
        issuedOfPlanned: results[p].arrivals ? { issued: results[p].arrivals!.issued, planned: results[p].arrivals!.planned } : null,
        throughput: results[p].throughput,
        latencyUs: results[p].latencyUs,
        failures: failures(results[p]),
        errors: results[p].errors,
        statusCounts: results[p].statusCounts,
        lateSends: results[p].lateSends,
        callerBottleneck: results[p].bottleneck,
        peakRssMiB: peak[p],
      },
    ]),
  ),
  attacks: tallies,
  keptAnswering,
  memoryMiB: { start: startRss, end: endRss, backWithin20Percent: memoryBack, heapStart: startHeap, heapEnd: endHeap, afterForcedGc: afterGc },
  loadAverage: load,
  roles: { pids, exitCodes, died },
};
writeFileSync(join(outDir, 'soak-attack-summary.json'), JSON.stringify(summary, null, 2) + '\n');

const ms = (us: number) => (us / 1000).toFixed(2);
const lines = [
  '',
  `soak:attack ${ok ? 'PASSED' : 'FAILED'}: ${values.framework}, GET /empty at ${rate} req/s open loop (${connections} connections), ${phaseMs / 1000} s per phase`,
  'phase    window s  issued/planned  requests  p50 ms   p99 ms   max ms   failures  peak RSS gateway / front / worker MiB',
  ...(['before', 'during', 'after'] as const).map((p) => {
    const r = results[p];
    const plan = r.arrivals ? `${r.arrivals.issued}/${r.arrivals.planned}` : '-';
    return `${p.padEnd(8)} ${r.window.seconds.toFixed(1).padStart(8)}  ${plan.padStart(14)}  ${String(r.requests).padStart(8)}  ${ms(r.latencyUs.p50).padStart(6)}  ${ms(r.latencyUs.p99).padStart(7)}  ${ms(r.latencyUs.max).padStart(7)}  ${String(failures(r)).padStart(8)}  ${ROLES.map((role) => peak[p][role].toFixed(0)).join(' / ')}`;
  }),
  `during the attacks the load ${keptAnswering ? 'kept answering' : 'did NOT keep answering'}: ${(issuedShare(results.during) * 100).toFixed(1)}% of its plan sent (80% needed), ${(answered(results.during) * 100).toFixed(2)}% of those answered 200, over ${results.during.window.seconds.toFixed(1)} s of ${phaseMs / 1000} s`,
  `RSS MiB at the start (end of before) and the end (end of after): ${ROLES.map((r) => `${r} ${startRss[r].toFixed(0)} -> ${endRss[r].toFixed(0)}${memoryBack[r] ? '' : ' (NOT within 20%)'}`).join(', ')}`,
  `JS heap / outside it (Buffers) MiB, start -> end: ${ROLES.map((r) => `${r} ${startHeap[r]?.heapMiB ?? '?'}/${startHeap[r]?.externalMiB ?? '?'} -> ${endHeap[r]?.heapMiB ?? '?'}/${endHeap[r]?.externalMiB ?? '?'}`).join(', ')}`,
  'after that, one forced full collection in each (a diagnostic, not judged), MiB:',
  ...ROLES.map((r) => {
    const g = afterGc[r];
    if (!g) return `  ${r}: no answer`;
    const k = g.byKind ? `; RSS by kind: glibc main heap ${g.byKind.brk}, other anonymous ${g.byKind.anon}, files ${g.byKind.files}` : '';
    return `  ${r}: JS heap ${g.heapMiB} used of ${g.heapTotalMiB}, Buffers ${g.externalMiB}, RSS ${g.rssMiB}${k}`;
  }),
  `load average (1, 5, 15 min): at the start ${load.start!.map((x) => x.toFixed(2)).join(' ')}, at the end ${load.end!.map((x) => x.toFixed(2)).join(' ')}`,
  'attacks (during), what each was answered:',
  ...Object.entries(tallies).map(
    ([name, t]) => `  ${name.padEnd(20)} (${t.bound}): ${Object.entries(t.outcomes).map(([k, v]) => `${k} x${v}`).join(', ') || 'nothing'}`,
  ),
  `roles: exit codes gateway ${exitCodes.gateway}, front ${exitCodes.front}, worker ${exitCodes.worker}${died.length ? '; ' + died.join('; ') : ''}`,
  ...(['before', 'during', 'after'] as const).flatMap((p) =>
    results[p].bottleneck.flagged ? [`WARNING: in ${p}, the caller was itself a bottleneck: ${results[p].bottleneck.reason}`] : [],
  ),
  `summary: ${join(outDir, 'soak-attack-summary.json')}`,
  '',
];
process.stdout.write(lines.join('\n'));
process.exitCode = ok ? 0 : 1;
