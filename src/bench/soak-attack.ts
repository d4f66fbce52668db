/**
 * `npm run soak:attack -- [--phase 20s] [--rate 300] [--connections 20] [--framework node] [--out DIR]`
 *
 * Starts a worker and a gateway, drives a steady open-loop `/empty` load with
 * the caller through three phases (before, during, after), and during the
 * middle one runs every attack of attacks.ts at once against the same
 * gateway. Prints, per phase, the steady load's p50/p99 and failures (no
 * answer, or not 200) and the peak RSS of each process, then what each attack
 * was answered. Each phase lasts --phase (default 20 s: a minute in all).
 * Exit status 0 when the load after the attacks was answered without
 * failures and both processes are alive, 1 when not, 2 on a usage error.
 *
 * The worker serves the bundled functions, except that `image` answers a
 * result over the 32 MiB frame limit at width=4095 (the bundled one cannot
 * since its output is bounded), so the oversized-result path is exercised.
 *
 * Not part of `npm test`; run it under `flock /tmp/faasbench-bench.lock`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCaller, type CallerResult } from '../caller/run-caller.js';
import { parseDuration } from '../flags.js';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { MAX_FRAME_BYTES } from '../rpc/protocol.js';
import { connectedToWorker, startRole } from '../run/role-process.js';
import type { AttackTally } from './attacks.js';
import { rssMiB } from './soak-memory.js';
import { scriptArgs, usageError } from './script-args.js';

const USAGE = 'usage: npm run soak:attack -- [--phase 20s] [--rate 300] [--connections 20] [--framework node] [--out DIR]';
const fail: (message: string) => never = usageError('soak:attack', USAGE);
const values = scriptArgs(
  {
    options: {
      phase: { type: 'string', default: '20s' },
      rate: { type: 'string', default: '300' },
      connections: { type: 'string', default: '20' },
      framework: { type: 'string', default: 'node' },
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
for (const name of ['empty', 'sleep', 'math']) writeFileSync(join(fnDir, `${name}.mjs`), `export { default } from ${bundled(name)};\n`);
writeFileSync(
  join(fnDir, 'image.mjs'),
  `import image from ${bundled('image')};\n` +
    `export default { ...image, run: (args, context) => args.width === 4095 ? new Uint8Array(${MAX_FRAME_BYTES + 1024}) : image.run(args, context) };\n`,
);
writeFileSync(join(outDir, 'README'), 'functions/: the bundled ones, with image answering 33 MiB at width=4095.\n');

const say = (line: string) => process.stderr.write(`soak:attack: ${line}\n`);
const worker = await startRole(['worker', '--port', '0', '--functions', fnDir], 'worker listening');
const gateway = await startRole(
  ['gateway', '--framework', values.framework, '--port', '0', '--worker', String(worker.ready.address)],
  'gateway listening',
);
await connectedToWorker(gateway);
const base = String(gateway.ready.url);
const pids = { gateway: gateway.proc.pid!, worker: worker.proc.pid! };
let stopping = false;
const died: string[] = [];
for (const [name, role] of Object.entries({ gateway, worker })) {
  role.proc.once('exit', (code, signal) => !stopping && died.push(`${name} exited (${signal ?? code})`));
}

// Peak RSS per phase, sampled every 250 ms.
type Phase = 'before' | 'during' | 'after';
const peak: Record<Phase, { gateway: number; worker: number }> = {
  before: { gateway: 0, worker: 0 },
  during: { gateway: 0, worker: 0 },
  after: { gateway: 0, worker: 0 },
};
let phase: Phase = 'before';
const sampler = setInterval(() => {
  for (const role of ['gateway', 'worker'] as const) peak[phase][role] = Math.max(peak[phase][role], rssMiB(pids[role]) ?? 0);
}, 250);

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
  });
}

const results = {} as Record<Phase, CallerResult>;
results.before = await steady('before');
// The attacks run in a process of their own for the length of the phase.
const attacker = spawn(process.execPath, [fileURLToPath(new URL('./attacks.js', import.meta.url)), base, String(phaseMs / 1000)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let attackOut = '';
attacker.stdout.on('data', (d: Buffer) => (attackOut += d));
const attackerExit = once(attacker, 'exit');
results.during = await steady('during');
const stopKill = setTimeout(() => attacker.kill('SIGKILL'), 30_000);
await attackerExit;
clearTimeout(stopKill);
let tallies: Record<string, AttackTally>;
try {
  tallies = JSON.parse(attackOut) as Record<string, AttackTally>;
} catch {
  tallies = { attacker: { outcomes: { 'no tallies: the attack process failed': 1 }, bound: '' } };
}
results.after = await steady('after');
clearInterval(sampler);
stopping = true;
const exitCodes = { gateway: await gateway.stop(), worker: await worker.stop() };

const failures = (r: CallerResult) =>
  r.errorCount + Object.entries(r.statusCounts).reduce((n, [status, k]) => (status === '200' ? n : n + k), 0);
const ok = died.length === 0 && failures(results.after) === 0 && !interrupted.signal.aborted;
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
        requests: results[p].requests,
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
  roles: { pids, exitCodes, died },
};
writeFileSync(join(outDir, 'soak-attack-summary.json'), JSON.stringify(summary, null, 2) + '\n');

const ms = (us: number) => (us / 1000).toFixed(2);
const lines = [
  '',
  `soak:attack ${ok ? 'PASSED' : 'FAILED'}: ${values.framework}, GET /empty at ${rate} req/s open loop (${connections} connections), ${phaseMs / 1000} s per phase`,
  'phase    requests  p50 ms   p99 ms   max ms   failures  peak RSS gateway / worker MiB',
  ...(['before', 'during', 'after'] as const).map((p) => {
    const r = results[p];
    return `${p.padEnd(8)} ${String(r.requests).padStart(8)}  ${ms(r.latencyUs.p50).padStart(6)}  ${ms(r.latencyUs.p99).padStart(7)}  ${ms(r.latencyUs.max).padStart(7)}  ${String(failures(r)).padStart(8)}  ${peak[p].gateway.toFixed(0)} / ${peak[p].worker.toFixed(0)}`;
  }),
  'attacks (during), what the gateway answered:',
  ...Object.entries(tallies).map(
    ([name, t]) => `  ${name.padEnd(17)} (${t.bound}): ${Object.entries(t.outcomes).map(([k, v]) => `${k} x${v}`).join(', ') || 'nothing'}`,
  ),
  `roles: exit codes gateway ${exitCodes.gateway}, worker ${exitCodes.worker}${died.length ? '; ' + died.join('; ') : ''}`,
  ...(['before', 'during', 'after'] as const).flatMap((p) =>
    results[p].bottleneck.flagged ? [`WARNING: in ${p}, the caller was itself a bottleneck: ${results[p].bottleneck.reason}`] : [],
  ),
  `summary: ${join(outDir, 'soak-attack-summary.json')}`,
  '',
];
process.stdout.write(lines.join('\n'));
process.exitCode = ok ? 0 : 1;
