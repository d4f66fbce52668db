/**
 * `npm run bench`: the roundtrip's own costs, as ratios within one run.
 * Options (--help): --rounds N (default 3), --quick (fewer calls), --frameworks a,b,
 * --only rpc,gateway,payload,observability,kernel,instances,saturation,startup (default: all eight;
 * kernel, for the first framework only, needs root and bpftrace and says why when skipped),
 * --no-pin (the gateway, observability and kernel parts unpinned; saturation is then skipped),
 * --connections N (the gateway part's load, default 50).
 */
import { gatewayBench, type CpuSplit } from './gateway-bench.js';
import { instancesBench } from './instances-bench.js';
import { observabilityBench } from './observability-bench.js';
import { PAYLOAD_SIZES, payloadBench } from './payload-bench.js';
import { rpcBench } from './rpc-bench.js';
import { benchCores, pinningUnavailable, type BenchCores } from './cores.js';
import { saturationBench } from './saturation-bench.js';
import { startupBench, versionBench } from './startup-bench.js';
import { integerFlag, listFlag, scriptArgs, usageError } from './script-args.js';
import { FRAMEWORKS } from '../gateway/adapters/index.js';
import { kernelBench, kernelBenchUnavailable } from './kernel-bench.js';

const PARTS = ['rpc', 'gateway', 'payload', 'observability', 'kernel', 'instances', 'saturation', 'startup'];
const USAGE = `usage: npm run bench -- [--rounds 3] [--quick] [--frameworks ${FRAMEWORKS.join(',')}]
       [--only ${PARTS.join(',')}] [--no-pin] [--connections 50]`;
const fail = usageError('bench', USAGE);
const values = scriptArgs(
  {
    options: {
      rounds: { type: 'string', default: '3' },
      quick: { type: 'boolean', default: false },
      frameworks: { type: 'string', default: FRAMEWORKS.join(',') },
      only: { type: 'string', default: PARTS.join(',') },
      'no-pin': { type: 'boolean', default: false },
      connections: { type: 'string', default: '50' },
      help: { type: 'boolean', default: false },
    },
  },
  USAGE,
  fail,
);
const only = new Set(listFlag('only', values.only, PARTS, fail));
const frameworks = listFlag('frameworks', values.frameworks, FRAMEWORKS, fail);
const rounds = integerFlag('rounds', values.rounds, 1, 1000, fail);
const connections = integerFlag('connections', values.connections, 1, 1000, fail);
const scale = values.quick ? 0.2 : 1;
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');

const unpinned = values['no-pin'] ? '--no-pin' : pinningUnavailable();
console.log(
  `faasbench bench: node ${process.version}, ${rounds} interleaved rounds, medians; ` +
    (unpinned ? `no pinning (${unpinned})` : 'servers measured for CPU pinned alone to one core, their load to another') +
    '\n',
);

/** Runs `part` pinned (cores.ts) unless pinning is off or unavailable. */
async function pinned<T>(part: (cores: BenchCores | null) => Promise<T>): Promise<T> {
  const cores = unpinned ? null : benchCores();
  try {
    return await part(cores);
  } finally {
    cores?.release();
  }
}

if (only.has('rpc')) {
  const rpc = await rpcBench(rounds, Math.round(50_000 * scale));
  const tput = rpc.oursCallsPerSec / rpc.echoCallsPerSec;
  const lat = rpc.oursP50us / rpc.echoP50us;
  console.log('RPC link (faasbench client + worker vs bare msgpack echo, one TCP connection)');
  console.log(`  64 in flight: ${fmt(rpc.oursCallsPerSec, 0)} vs ${fmt(rpc.echoCallsPerSec, 0)} calls/s  ratio ${fmt(tput)}  (target >= 0.8: ${verdict(tput >= 0.8)})`);
  console.log(`  1 in flight:  p50 ${fmt(rpc.oursP50us, 1)} vs ${fmt(rpc.echoP50us, 1)} us  ratio ${fmt(lat)}  (target <= 1.2: ${verdict(lat <= 1.2)})\n`);
}

if (only.has('gateway')) {
  const rows = await pinned((cores) => gatewayBench(frameworks, rounds, Math.round(30_000 * scale), cores, connections));
  console.log(`Gateway CPU per request on /empty, ${connections} connections (server process only; ratios: medians of per-round ratios)`);
  console.log('  framework  hello µs  proxy µs  gateway µs  vs hello  target      proxy/hello  gateway/proxy  target      records  target       gzip');
  for (const r of rows) {
    const costTarget = r.framework === 'node' || r.framework === 'fastify' ? (r.gatewayVsHello <= 1.3 ? '<=1.3 ok' : '<=1.3 MISS') : '(none)';
    console.log(
      `  ${r.framework.padEnd(9)}  ${fmt(r.helloUs, 1).padStart(8)}  ${fmt(r.proxyUs, 1).padStart(8)}  ${fmt(r.gatewayUs, 1).padStart(10)}  ` +
        `${fmt(r.gatewayVsHello).padStart(8)}  ${costTarget.padEnd(10)}  ${fmt(r.proxyVsHello).padStart(11)}  ${fmt(r.gatewayVsProxy).padStart(13)}  ` +
        `${(r.gatewayVsProxy <= 1.1 ? '<=1.1 ok' : '<=1.1 MISS').padEnd(10)}  ` +
        `${fmt(r.recordsVsPlain).padStart(7)}  ${r.recordsVsPlain <= 1.05 ? '<=1.05 ok' : '<=1.05 MISS'}  ${fmt(r.gzVsPlain).padStart(5)}`,
    );
  }
  console.log('  proxy: the hello world of the same framework with a TCP hop to a byte echo and nothing else, the least its gateway can cost here.');
  console.log('  split (µs per request, the median round), user space + kernel:');
  for (const r of rows) {
    const of = (c: CpuSplit) => `${fmt(c.user, 1)} + ${fmt(c.system, 1)}`;
    console.log(`  ${r.framework.padEnd(9)}  hello ${of(r.split.hello)}   proxy ${of(r.split.proxy)}   gateway ${of(r.split.gateway)}`);
  }
  console.log('  per-round ratios, lowest-highest:');
  for (const r of rows) {
    const range = ([lo, hi]: [number, number]) => `${fmt(lo)}-${fmt(hi)}`;
    const { gatewayVsProxy, recordsVsPlain, gzVsPlain } = r.ranges;
    console.log(`  ${r.framework.padEnd(9)}  gateway/proxy ${range(gatewayVsProxy)}   records ${range(recordsVsPlain)}   gzip ${range(gzVsPlain)}`);
  }
}

if (only.has('payload')) {
  const rows = await pinned((cores) => payloadBench(rounds, scale, cores));
  const size = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : n >= 1024 ? `${n / 1024} KiB` : `${n} B`);
  console.log('\nAnswers by size at 1 connection: GET /payload through faasbench (node gateway, inline worker) against a bare node:http');
  console.log('server and a bare proxy with the same TCP hop, each answering the same bytes (caller p50 µs; ratios: medians of per-round ratios)');
  console.log('  size     format  faasbench  min      p50/min  bare     vs bare  target      proxy    vs proxy');
  for (const r of rows) {
    const large = r.bytes >= PAYLOAD_SIZES[1]!;
    const target =
      r.format === 'raw' ? (large ? (r.vsBare <= 3 && r.oursP50VsMin <= 2 ? '<=3 ok' : '<=3 MISS') : '(none)') : r.bytes >= PAYLOAD_SIZES[2]! ? (r.vsBare <= 1.5 ? '<=1.5 ok' : '<=1.5 MISS') : '(none)';
    console.log(
      `  ${size(r.bytes).padEnd(7)}  ${r.format.padEnd(6)}  ${fmt(r.oursP50, 0).padStart(9)}  ${fmt(r.oursMin, 0).padStart(7)}  ${fmt(r.oursP50VsMin).padStart(7)}  ` +
        `${fmt(r.bareP50, 0).padStart(7)}  ${fmt(r.vsBare).padStart(7)}  ${target.padEnd(10)}  ${fmt(r.proxyP50, 0).padStart(7)}  ${fmt(r.vsProxy).padStart(8)}`,
    );
  }
  console.log('  targets: raw 100 KiB and 1 MiB within 3x of bare and p50 within 2x of its own min; JSON 1 MiB within 1.5x of bare (which stringifies per request).');
}

if (only.has('observability')) {
  const rows = await pinned((cores) => observabilityBench(frameworks, rounds, Math.round(30_000 * scale), cores));
  console.log('\nObservability: gateway CPU per request on /empty, against metrics and Server-Timing both off (ratios: medians of per-round ratios)');
  console.log('  framework  off µs  metrics µs  ratio  target     Server-Timing µs  ratio  target');
  const target = (x: number) => (x <= 1.05 ? '<=1.05 ok' : '<=1.05 MISS');
  for (const r of rows) {
    const m = r.metricsRatio;
    const st = r.serverTimingRatio;
    console.log(
      `  ${r.framework.padEnd(9)}  ${fmt(r.offUs, 1).padStart(6)}  ${fmt(r.metricsUs, 1).padStart(10)}  ${fmt(m).padStart(5)}  ${target(m)}  ` +
        `${fmt(r.serverTimingUs, 1).padStart(16)}  ${fmt(st).padStart(5)}  ${target(st)}`,
    );
  }
}

if (only.has('kernel')) {
  const missing = await kernelBenchUnavailable();
  const framework = frameworks[0]!;
  if (missing) console.log(`\nKernel stamps: skipped (${missing})`);
  else {
    const k = await pinned((cores) => kernelBench(framework, rounds, Math.round(30_000 * scale), cores));
    const target = (x: number) => (x <= 1.1 ? '<=1.1 ok' : '<=1.1 MISS');
    console.log(`\nKernel stamps (${framework}, records on in both; ratios: medians of per-round ratios, stamps on / off)`);
    console.log(`  gateway CPU per request, /empty, 50 connections: ${fmt(k.cpuOffUs, 1)} -> ${fmt(k.cpuOnUs, 1)} µs  ratio ${fmt(k.cpuRatio)}  ${target(k.cpuRatio)}`);
    console.log(`  roundtrip p50, 1 connection (every role stamped): ${fmt(k.p50OffUs, 1)} -> ${fmt(k.p50OnUs, 1)} µs  ratio ${fmt(k.p50Ratio)}  ${target(k.p50Ratio)}`);
    console.log(
      `  the gateway's tracer: bpftrace ${fmt(k.tracerCpuUs, 2)} µs CPU per request; its eBPF programs ` +
        `${k.bpfNsPerRequest === null ? '(kernel time not counted here)' : `${fmt(k.bpfNsPerRequest, 0)} ns in the kernel per request`}`,
    );
    const l = k.load;
    console.log(
      `  150 connections, /empty: ${fmt(l.p50Us, 0)} µs p50; ${l.lost} events lost; split: caller link ${l.callerSplit} and RPC link ${l.rpcSplit} ` +
        `of ${l.measured} requests; the three tracers took ${l.tracerCpuUs === null ? '?' : fmt(l.tracerCpuUs / 1e6, 2)} s CPU in all (start-up included)`,
    );
  }
}

if (only.has('instances')) {
  const rows = await instancesBench(rounds, Math.round(2_000 * scale), Math.max(3, Math.round(10 * scale)));
  const inline = rows.find((r) => r.isolation === 'inline')!.warmOutsideUs;
  console.log("\nInstances: the worker's own time per warm /empty call (t3_send - t3_recv - function), and cold starts' phases");
  console.log('  isolation  warm µs  vs inline   cold calls  before spawn µs  boot+load µs  init µs  hand-over µs');
  for (const r of rows) {
    const c = r.cold;
    const col = (x: number | undefined) => (x === undefined ? '-' : fmt(x, 0)).padStart(12);
    console.log(
      `  ${r.isolation.padEnd(9)}  ${fmt(r.warmOutsideUs, 1).padStart(7)}  ${((r.warmOutsideUs >= inline ? '+' : '') + fmt(r.warmOutsideUs - inline, 1)).padStart(9)}   ${String(r.coldCalls).padStart(10)}  ` +
        `${col(c?.before_spawn).padStart(15)}  ${col(c?.boot_and_load)}  ${(c ? fmt(c.init, 0) : '-').padStart(7)}  ${col(c?.hand_over)}`,
    );
  }
}

if (only.has('saturation')) {
  if (unpinned) console.log(`\nSaturation: skipped, it needs pinning (${unpinned})`);
  else {
    const rows = await pinned((cores) => saturationBench(rounds, Math.max(1, Math.round(5 * scale)), cores!));
    console.log('\nSaturation: closed loop on /empty, 50 connections; each server alone on one core, the caller, worker and echo on another');
    console.log('  server    requests/s  vs hello  server CPU %');
    for (const r of rows) {
      console.log(`  ${r.server.padEnd(8)}  ${fmt(r.requestsPerSecond, 0).padStart(10)}  ${fmt(r.vsHello).padStart(8)}  ${fmt(r.cpuPercent, 0).padStart(12)}`);
    }
  }
}

if (only.has('startup')) {
  const v = await versionBench(Math.max(5, Math.round(15 * scale)));
  console.log('\nStart-up: wall time from spawn, and RSS after 2 s idle (ratios: medians of per-round ratios)');
  console.log(
    `  faasbench --version: ${fmt(v.versionMs, 0)} ms, node with an empty module ${fmt(v.nodeMs, 0)} ms, ratio ${fmt(v.ratio)}  (target < 150 ms: ${verdict(v.versionMs < 150)})`,
  );
  const rows = await startupBench(frameworks, rounds);
  console.log('  framework  gateway start ms  gateway RSS MiB  hello RSS MiB  ratio  target');
  for (const r of rows) {
    console.log(
      `  ${r.framework.padEnd(9)}  ${fmt(r.startMs, 0).padStart(16)}  ${fmt(r.gatewayRssMiB, 1).padStart(15)}  ${fmt(r.helloRssMiB, 1).padStart(13)}  ` +
        `${fmt(r.rssRatio).padStart(5)}  ${r.rssRatio <= 1.2 ? '<=1.2 ok' : '<=1.2 MISS'}`,
    );
  }
  console.log('  start: spawn to connected to its worker. hello: a bare server of the same framework, which loads that framework alone.');
}
