/**
 * What kernel stamps cost (docs/measurement.md: the instrument's own cost is
 * measured and reported): with records on in both, a gateway with
 * --kernel-stamps against one without, in interleaved rounds,
 * - the gateway's CPU per request on /empty (50 connections, autocannon);
 * - the roundtrip p50 at 1 connection (faasbench's caller, its own tracer on
 *   in the stamped half, with a stamped worker behind the stamped gateway);
 * - the tracers' own cost: bpftrace's CPU per request, and the eBPF programs'
 *   run time in the kernel (kernel.bpf_stats_enabled, switched on for the
 *   bench and back);
 * and, at 150 connections, whether any event was lost and every request got
 * its split. Needs root and bpftrace: the part says why it is skipped.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../analysis/analyze.js';
import { runCaller } from '../caller/run-caller.js';
import { checkKernelStamps } from '../kernel/checks.js';
import { startGatewayProcess, startWorkerProcess, type RoleProcess } from '../testing/processes.js';
import { cpuSeconds, median } from './children.js';
import type { BenchCores } from './cores.js';
import { cpuPerRequest, pairedRatio } from './gateway-bench.js';

export interface KernelBenchResult {
  framework: string;
  /** Medians over rounds: gateway CPU µs per request, off and on, and the median of per-round ratios. */
  cpuOffUs: number;
  cpuOnUs: number;
  cpuRatio: number;
  /** Roundtrip p50 µs at 1 connection, off and on, and the median of per-round ratios. */
  p50OffUs: number;
  p50OnUs: number;
  p50Ratio: number;
  /** The gateway's bpftrace process: CPU µs per request (median round); its eBPF programs' kernel time, ns per request (null when the kernel does not count it). */
  tracerCpuUs: number;
  bpfNsPerRequest: number | null;
  /** 150 connections: requests in the figures, those with each link's split, events lost, roundtrip p50 µs. */
  load: { connections: number; measured: number; callerSplit: number; rpcSplit: number; lost: number; p50Us: number; tracerCpuUs: number | null };
}

/** Why the part cannot run here, or null. */
export async function kernelBenchUnavailable(): Promise<string | null> {
  const ready = await checkKernelStamps({ role: 'gateway', sends: true, dial: true });
  return 'missing' in ready ? ready.missing : null;
}

export async function kernelBench(framework: string, rounds: number, requests: number, cores: BenchCores | null): Promise<KernelBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'faasbench-kernel-bench-'));
  const log = (name: string) => join(dir, `${name}.ndjson`);
  const stats = bpfStats(true);
  const started: RoleProcess[] = [];
  try {
    // The floor (functions on the worker's loop), as in the gateway part.
    const plainWorker = await startWorkerProcess(['--isolation', 'inline', '--log', log('worker-off')]);
    const stampedWorker = await startWorkerProcess(['--isolation', 'inline', '--log', log('worker-on'), '--kernel-stamps']);
    started.push(plainWorker, stampedWorker);
    const off = await startGatewayProcess(framework, plainWorker.address, ['--log', log('gateway-off')]);
    const on = await startGatewayProcess(framework, stampedWorker.address, ['--log', log('gateway-on'), '--kernel-stamps']);
    started.push(off, on);
    for (const g of [off, on]) cores?.server(g.proc.pid!);
    const tracer = tracerOf(on.proc.pid!);

    const cpu = { off: [] as number[], on: [] as number[] };
    const p50 = { off: [] as number[], on: [] as number[] };
    const tracerUs: number[] = [];
    const bpfNs: number[] = [];
    const roundtripP50 = async (url: string, stamped: boolean, name: string) => {
      const r = await runCaller({ url, connections: 1, requests: Math.max(500, Math.round(requests / 10)), warmupMs: 500, out: log(name), kernelStamps: stamped });
      return r.latencyUs.p50;
    };
    for (let i = 0; i < rounds; i++) {
      cpu.off.push(await cpuPerRequest(off.proc.pid!, `${off.url}/empty`, requests));
      const before = { cpu: cpuSeconds(tracer), bpf: programTime(tracer) };
      cpu.on.push(await cpuPerRequest(on.proc.pid!, `${on.url}/empty`, requests));
      // The warm-up is 1/5 of the measured requests: the tracer's work is per request.
      const served = requests * 1.2;
      tracerUs.push(((cpuSeconds(tracer) - before.cpu) * 1e6) / served);
      const bpf = programTime(tracer);
      if (bpf !== null && before.bpf !== null && bpf > before.bpf) bpfNs.push((bpf - before.bpf) / served);
      p50.off.push(await roundtripP50(`${off.url}/empty`, false, `caller-off-${i}`));
      p50.on.push(await roundtripP50(`${on.url}/empty`, true, `caller-on-${i}`));
    }

    // The seed's load: 150 connections on /empty, everything stamped.
    const loaded = await runCaller({ url: `${on.url}/empty`, connections: 150, requests: requests * 2, warmupMs: 1000, out: log('caller-150'), kernelStamps: true });
    for (const role of started.splice(0)) await role.stop();
    const { summary } = await analyze({ inputs: [log('caller-150'), log('gateway-on'), log('worker-on')], out: join(dir, 'report'), csv: false, resamples: 100 });
    const k = summary.kernel!;
    const cell = summary.cells.find((c) => c.connections === 150);
    return {
      framework,
      cpuOffUs: median(cpu.off),
      cpuOnUs: median(cpu.on),
      cpuRatio: pairedRatio(cpu.on, cpu.off),
      p50OffUs: median(p50.off),
      p50OnUs: median(p50.on),
      p50Ratio: pairedRatio(p50.on, p50.off),
      tracerCpuUs: median(tracerUs),
      bpfNsPerRequest: bpfNs.length ? median(bpfNs) : null,
      load: {
        connections: 150,
        measured: cell?.measured ?? 0,
        callerSplit: cell?.link_split?.caller?.requests ?? 0,
        rpcSplit: cell?.link_split?.rpc?.requests ?? 0,
        lost: k.lost,
        p50Us: loaded.latencyUs.p50,
        tracerCpuUs: k.tracer_cpu_us,
      },
    };
  } finally {
    await Promise.all(started.map((r) => r.stop()));
    stats.restore();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The role's bpftrace: its only child process. */
function tracerOf(pid: number): number {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  const found = children.map(Number).find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'bpftrace');
  if (found === undefined) throw new Error(`no bpftrace under the gateway (pid ${pid})`);
  return found;
}

/** The kernel time of a process's eBPF programs so far, ns (counted while kernel.bpf_stats_enabled is 1); null when unreadable. */
function programTime(pid: number): number | null {
  try {
    let ns = 0;
    for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
      const m = /^run_time_ns:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ns += Number(m[1]);
    }
    return ns;
  } catch {
    return null;
  }
}

/** Switches the kernel's eBPF run-time accounting on for the bench, and back to what it was. */
function bpfStats(on: boolean): { restore(): void } {
  const file = '/proc/sys/kernel/bpf_stats_enabled';
  let before: string | null = null;
  try {
    before = readFileSync(file, 'utf8').trim();
    writeFileSync(file, on ? '1' : '0');
  } catch {
    before = null;
  }
  return {
    restore() {
      if (before !== null) writeFileSync(file, before);
    },
  };
}
