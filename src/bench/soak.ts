/**
 * `npm run soak -- --duration 5m --connections 150 [--framework node] [--endpoint /empty]`
 *
 * Starts a worker and a gateway (both writing records), drives the gateway
 * with the caller for the given time, samples the RSS (and V8 heap) of both
 * once a second, then checks that memory stayed flat after the warm-up and
 * that every request the caller saw answered has exactly one gateway record
 * and one worker record. Prints progress while it runs and a summary at the
 * end, and writes the summary as JSON beside the records. Exit status: 0 when
 * the records are complete (and, with --fail-on-growth, memory flat), 1 when
 * not, 2 on a usage error.
 *
 * Not part of `npm test`: it takes minutes and wants the machine to itself
 * (run it under `flock /tmp/faasbench-bench.lock`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCaller, type CallerResult } from '../caller/run-caller.js';
import { parseDuration } from '../flags.js';
import { FRAMEWORKS } from '../gateway/adapters/adapter.js';
import { connectedToWorker, startRole, type RoleProcess } from '../run/role-process.js';
import { checkRecords } from './soak-records.js';
import { judge, sample, type MemorySample, type MemoryVerdict } from './soak-memory.js';
import { scriptArgs, usageError } from './script-args.js';

const USAGE = `usage: npm run soak -- [--duration 5m] [--connections 150] [--framework node] [--endpoint /empty]
       [--warmup D] [--out DIR] [--progress-every 10s] [--max-growth-pct 10] [--max-growth-mib 16] [--fail-on-growth]`;

const fail: (message: string) => never = usageError('soak', USAGE);
const values = scriptArgs(
  {
    options: {
      duration: { type: 'string', default: '5m' },
      connections: { type: 'string', default: '150' },
      framework: { type: 'string', default: 'node' },
      endpoint: { type: 'string', default: '/empty' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      'progress-every': { type: 'string', default: '10s' },
      'max-growth-pct': { type: 'string', default: '10' },
      'max-growth-mib': { type: 'string', default: '16' },
      'fail-on-growth': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  },
  USAGE,
  fail,
);

let durationMs: number, warmupMs: number, progressMs: number;
try {
  durationMs = parseDuration(values.duration, '--duration');
  // Long enough for JIT, pools and buffers to settle; counted in the duration.
  warmupMs = values.warmup === undefined ? Math.min(60_000, Math.max(5_000, durationMs / 5)) : parseDuration(values.warmup, '--warmup');
  progressMs = parseDuration(values['progress-every'], '--progress-every');
} catch (err) {
  fail((err as Error).message);
}
const connections = Number(values.connections);
const maxGrowthPct = Number(values['max-growth-pct']);
const maxGrowthMiB = Number(values['max-growth-mib']);
if (!(durationMs > 0)) fail('--duration must be positive');
if (!(warmupMs >= 0 && warmupMs < durationMs)) fail('--warmup must be shorter than --duration');
if (!(progressMs >= 1000)) fail('--progress-every must be at least 1s');
if (!Number.isInteger(connections) || connections < 1 || connections > 10_000) fail('--connections must be 1..10000');
if (!(FRAMEWORKS as readonly string[]).includes(values.framework)) fail(`--framework must be one of ${FRAMEWORKS.join(', ')}`);
if (!values.endpoint.startsWith('/')) fail('--endpoint must be a path such as /empty or /sleep?ms=1');
if (!(maxGrowthPct >= 0) || !(maxGrowthMiB >= 0)) fail('--max-growth-pct and --max-growth-mib must be 0 or more');

const outDir = resolve(values.out ?? join('results', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`));
mkdirSync(outDir, { recursive: true });
const files = {
  caller: join(outDir, 'caller.ndjson'),
  gateway: join(outDir, 'gateway.ndjson'),
  worker: join(outDir, 'worker.ndjson'),
  memory: join(outDir, 'memory.json'),
  summary: join(outDir, 'soak-summary.json'),
};
for (const f of [files.caller, files.gateway, files.worker]) rmSync(f, { force: true }); // records append
const heapDir = mkdtempSync(join(tmpdir(), 'faasbench-soak-heap-'));

const say = (line: string) => process.stderr.write(`soak: ${line}\n`);
const mib = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(1));

/** warn/error lines (pino levels 40, 50, 60) the roles logged, counted and the first few kept. */
const roleLogs = { gateway: { warnings: 0, errors: 0, first: [] as string[] }, worker: { warnings: 0, errors: 0, first: [] as string[] } };
function logWatcher(role: 'gateway' | 'worker') {
  return (line: string) => {
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level === undefined || Number(level) < 40) return;
    if (Number(level) >= 50) roleLogs[role].errors++;
    else roleLogs[role].warnings++;
    if (roleLogs[role].first.length < 5) roleLogs[role].first.push(line.slice(0, 400));
  };
}

// The roles get soak-heap.js preloaded (and nothing else different).
const preload = new URL('./soak-heap.js', import.meta.url).href;
const savedOptions = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = `${savedOptions ?? ''} --import=${preload}`.trim();
process.env.FAASBENCH_SOAK_HEAP_DIR = heapDir;
let worker: RoleProcess;
let gateway: RoleProcess;
try {
  worker = await startRole(['worker', '--port', '0', '--log', files.worker], 'worker listening', { onLog: logWatcher('worker') });
  gateway = await startRole(
    ['gateway', '--framework', values.framework, '--port', '0', '--worker', String(worker.ready.address), '--log', files.gateway],
    'gateway listening',
    { onLog: logWatcher('gateway') },
  );
  await connectedToWorker(gateway);
} finally {
  if (savedOptions === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = savedOptions;
  delete process.env.FAASBENCH_SOAK_HEAP_DIR;
}
const roles = { gateway: gateway!, worker: worker! };
const pids = { gateway: roles.gateway.proc.pid!, worker: roles.worker.proc.pid! };
const died: string[] = [];
for (const [name, role] of Object.entries(roles)) {
  role.proc.once('exit', (code, signal) => {
    if (!stopping) died.push(`${name} exited during the run (${signal ?? code})`);
  });
}
let stopping = false;

const url = String(roles.gateway.ready.url) + values.endpoint;
say(
  `${values.framework} gateway (pid ${pids.gateway}) -> worker (pid ${pids.worker}); GET ${url}, ${connections} connections, ` +
    `${durationMs / 1000} s (first ${warmupMs / 1000} s warm-up); records in ${outDir}`,
);

// One sample a second of each role; the load's start is t = 0.
const samples: { gateway: MemorySample[]; worker: MemorySample[] } = { gateway: [], worker: [] };
const startedAt = performance.now();
const secs = () => (performance.now() - startedAt) / 1000;
const takeSamples = () => {
  const t = secs();
  samples.gateway.push(sample(pids.gateway, heapDir, t));
  samples.worker.push(sample(pids.worker, heapDir, t));
};
takeSamples();
const sampler = setInterval(takeSamples, 1000);

let latest = { completed: 0, errors: 0, inFlight: 0, phase: 'warmup' };
let lastProgress = { t: 0, completed: 0 };
const progress = setInterval(() => {
  const t = secs();
  const rate = (latest.completed - lastProgress.completed) / (t - lastProgress.t);
  lastProgress = { t, completed: latest.completed };
  const g = samples.gateway.at(-1);
  const w = samples.worker.at(-1);
  say(
    `${t.toFixed(0).padStart(4)}/${(durationMs / 1000).toFixed(0)} s  ${latest.phase.padEnd(7)} ${latest.completed} done, ` +
      `${latest.errors} failed, ${latest.inFlight} in flight, ${rate.toFixed(0)} req/s; ` +
      `RSS gateway ${mib(g?.rssMiB)} MiB (heap ${mib(g?.heapMiB)}), worker ${mib(w?.rssMiB)} MiB (heap ${mib(w?.heapMiB)})`,
  );
}, progressMs);

const abort = new AbortController();
const onSignal = () => {
  say('interrupted: stopping the load, then checking what was recorded');
  abort.abort();
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

let caller: CallerResult;
try {
  caller = await runCaller({
    url,
    connections,
    // The caller's duration is its measured window, after its warm-up.
    durationMs: durationMs - warmupMs,
    warmupMs,
    out: files.caller,
    label: 'soak',
    signal: abort.signal,
    onProgress: (p) => {
      latest = p;
    },
  });
} finally {
  clearInterval(progress);
  clearInterval(sampler);
}
const loadEndS = secs();
takeSamples();

// SIGTERM: each role flushes its records and exits 0.
stopping = true;
const exitCodes = { gateway: await roles.gateway.stop(), worker: await roles.worker.stop() };
rmSync(heapDir, { recursive: true, force: true });

say('load done; checking the records');
const { completeness, classes } = await checkRecords(files);
const memory: Record<'gateway' | 'worker', MemoryVerdict> = {
  gateway: judge(samples.gateway, warmupMs / 1000, loadEndS, maxGrowthPct, maxGrowthMiB),
  worker: judge(samples.worker, warmupMs / 1000, loadEndS, maxGrowthPct, maxGrowthMiB),
};
const flat = memory.gateway.flat === true && memory.worker.flat === true;
const recordsOk = completeness.completenessPct === 100 && died.length === 0 && exitCodes.gateway === 0 && exitCodes.worker === 0;
const ok = recordsOk && (flat || !values['fail-on-growth']);

const summary = {
  ok,
  command: `soak ${process.argv.slice(2).join(' ')}`.trim(),
  node: process.version,
  framework: values.framework,
  endpoint: values.endpoint,
  connections,
  durationS: durationMs / 1000,
  warmupS: warmupMs / 1000,
  loadSeconds: loadEndS,
  aborted: caller.aborted,
  requests: {
    total: completeness.callerRecords,
    answered: completeness.answered,
    measured: caller.requests,
    warmup: caller.warmupRequests,
    throughput: caller.throughput,
    latencyUs: caller.latencyUs,
    callerBottleneck: caller.bottleneck,
  },
  errors: classes,
  completeness,
  memory: { maxGrowthPct, maxGrowthMiB, flat, gateway: memory.gateway, worker: memory.worker },
  roles: { pids, exitCodes, died, logs: roleLogs },
  files,
};
writeFileSync(files.memory, JSON.stringify(samples) + '\n');
writeFileSync(files.summary, JSON.stringify(summary, null, 2) + '\n');

const counts = (m: Record<string, number>) => {
  const e = Object.entries(m);
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${v}`).join(', ');
};
const growthLine = (name: string, v: MemoryVerdict) => {
  const line = (what: string, g: MemoryVerdict['rss']) =>
    g === null
      ? `${what} -`
      : `${what} ${mib(g.startMiB)} -> ${mib(g.endMiB)} MiB (${g.growthMiB >= 0 ? '+' : ''}${mib(g.growthMiB)} MiB, ` +
        `${g.growthPct >= 0 ? '+' : ''}${g.growthPct.toFixed(1)}%; slope ${g.slopeMiBPerMin.toFixed(2)} MiB/min; range ${mib(g.minMiB)}..${mib(g.maxMiB)}); ` +
        `floor ${mib(g.floorStartMiB)} -> ${mib(g.floorEndMiB)} MiB (${g.floorGrowthMiB >= 0 ? '+' : ''}${mib(g.floorGrowthMiB)} MiB, ${g.floorGrowthPct >= 0 ? '+' : ''}${g.floorGrowthPct.toFixed(1)}%)`;
  const pad = ''.padEnd(8);
  return (
    `  ${name.padEnd(8)} ${line('RSS ', v.rss)}${v.flat ? '  flat' : '  GROWING'}\n  ${pad} ${line('heap', v.heap)}\n` +
    `  ${pad} floor per minute: RSS ${v.floorsPerMinute.rssMiB.join(', ')} MiB; heap ${v.floorsPerMinute.heapMiB.join(', ')} MiB`
  );
};
const c = completeness;
process.stdout.write(
  [
    '',
    `soak ${ok ? 'PASSED' : 'FAILED'}: ${values.framework} GET ${values.endpoint}, ${connections} connections, ${loadEndS.toFixed(1)} s` +
      `${caller.aborted ? ' (stopped early)' : ''}`,
    `requests      ${c.callerRecords} sent (${caller.warmupRequests} in warm-up), ${c.answered} answered; ` +
      `${caller.throughput.toFixed(0)} req/s after warm-up, p50 ${(caller.latencyUs.p50 / 1000).toFixed(2)} ms, p99 ${(caller.latencyUs.p99 / 1000).toFixed(2)} ms`,
    `status        ${counts(classes.callerStatus)}`,
    `errors        caller (no answer): ${counts(classes.callerErrors)}; gateway: ${counts(classes.gatewayErrors)}; worker: ${counts(classes.workerErrors)}`,
    `completeness  ${c.complete}/${c.answered} answered requests have exactly one gateway and one worker record: ${c.completenessPct.toFixed(4)}%` +
      (c.complete === c.answered
        ? ''
        : ` (gateway missing ${c.missingGateway}, duplicate ${c.duplicateGateway}; worker missing ${c.missingWorker}, duplicate ${c.duplicateWorker}; e.g. ${c.examples.join(' ')})`),
    `              records: caller ${c.callerRecords}, gateway ${c.gatewayRecords}, worker ${c.workerRecords}; ` +
      `for unanswered requests: gateway ${c.gatewayWithoutAnswer}, worker ${c.workerWithoutAnswer}; duplicate caller ids ${c.duplicateCallerIds}`,
    `memory        from the end of warm-up (${(warmupMs / 1000).toFixed(0)} s) to the end of the load; start/end = median of 5 samples; ` +
      `floor = lowest in the first / last fifth (flat: RSS floor grew <= ${maxGrowthPct}% or ${maxGrowthMiB} MiB):`,
    growthLine('gateway', memory.gateway),
    growthLine('worker', memory.worker),
    `roles         exit codes gateway ${exitCodes.gateway}, worker ${exitCodes.worker}; warn/error log lines gateway ` +
      `${roleLogs.gateway.warnings}/${roleLogs.gateway.errors}, worker ${roleLogs.worker.warnings}/${roleLogs.worker.errors}` +
      (died.length ? `; ${died.join('; ')}` : ''),
    caller.bottleneck.flagged ? `WARNING       the caller was itself a bottleneck: ${caller.bottleneck.reason}` : '',
    `summary       ${files.summary}`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n') + '\n',
);
process.exitCode = ok ? 0 : 1;
