/**
 * One bpftrace per role process: started once the role's ports are known,
 * its lines moved into the role's record file about once a second, stopped
 * before the file closes. bpftrace writes to a file of its own, not a pipe:
 * a busy role that read late would stall a pipe, and a stalled bpftrace
 * loses events. The role's own cost is one read and one append a second.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ownSpawn } from '../own-spawn.js';
import { now } from '../trace/clock.js';
import { kernelRecordHead } from '../trace/records.js';
import { buildScript, READY_SIGNAL, type KernelWatch } from './script.js';
import { splitOutput, trimmedStderr } from './output.js';

/** How often the tracer's lines are moved into the record file. */
const DRAIN_EVERY_MS = 1000;
/** bpftrace compiles the program and parses the kernel's BTF first: seconds on a busy machine. */
const READY_TIMEOUT_MS = 60_000;
/** 4 MiB of ring buffer per CPU (bpftrace's default is 256 KiB): bursts of 150 connections fit without loss. */
const RING_PAGES = '1024';
/** Sockets watched at once, per map. */
const MAP_KEYS = '65536';

/** Where the text goes: the role's record sink. */
export type Write = (text: string) => void;

export interface TracerStop {
  /** Events bpftrace said it lost (its ring buffer was full). */
  lost: number;
  /** CPU time of the bpftrace process, µs (user + system): the tracer's own cost outside the kernel. */
  cpuUs: number | null;
}

export class KernelTracer {
  private out: FileHandle | null = null;
  private position = 0;
  private carry = '';
  private draining: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  private lost = 0;
  /** Buffered events read, and those the script said it stored. */
  private events = 0;
  private put = 0;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly outFile: string,
    private readonly stderr: string[],
    private readonly head: string,
    private write: Write,
  ) {
    this.timer = setInterval(() => this.drain(), DRAIN_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Starts bpftrace for this watch and resolves once every probe is
   * attached; rejects with bpftrace's own words when it cannot load.
   */
  static async start(bpftrace: string, watch: KernelWatch, write: Write): Promise<KernelTracer> {
    const outFile = join(tmpdir(), `faasbench-kernel-${process.pid}-${Date.now().toString(36)}.ndjson`);
    const version = await bpftraceVersion(bpftrace);
    // The role's own child: an inline worker's spawn hook must not take it for a function's and kill it.
    const proc = ownSpawn(() =>
      spawn(bpftrace, ['-q', '--unsafe', '-o', outFile, '-e', buildScript(watch)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, BPFTRACE_PERF_RB_PAGES: RING_PAGES, BPFTRACE_MAP_KEYS_MAX: MAP_KEYS },
      }),
    );
    const stderr: string[] = [];
    proc.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr.push(text);
      if (stderr.length > 200) stderr.splice(0, stderr.length - 200);
    });
    try {
      await whenReady(proc, stderr);
    } catch (err) {
      proc.kill('SIGKILL');
      await rm(outFile, { force: true });
      throw err;
    }
    const head = kernelRecordHead(watch.role, watch.host);
    write(`${head},"k":"start","pid":${process.pid},"t":"${now()}","tracer":${JSON.stringify(version)}}\n`);
    const tracer = new KernelTracer(proc, outFile, stderr, head, write);
    return tracer;
  }

  /** The record file moved on (the caller opens one per run): later lines go here. */
  redirect(write: Write): void {
    this.write = write;
  }

  /** Moves the lines bpftrace has written since the last drain into the record file. */
  drain(): Promise<void> {
    this.draining = this.draining.then(() => this.readNew()).catch(() => {});
    return this.draining;
  }

  /** Stops bpftrace (it flushes its output), moves the rest, and writes the stop line. */
  async stop(): Promise<TracerStop> {
    if (this.stopped) return { lost: 0, cpuUs: null };
    this.stopped = true;
    clearInterval(this.timer);
    const cpuUs = await cpuOf(this.proc.pid);
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = once(this.proc, 'exit');
      this.proc.kill('SIGINT');
      const kill = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(kill);
    }
    await this.drain();
    await this.out?.close();
    await rm(this.outFile, { force: true });
    // Stored but never printed: a map was full, or cleared before bpftrace printed it. @put comes only from END: none when bpftrace was killed.
    const lost = this.lost + Math.max(0, this.put - this.events);
    const problem = trimmedStderr(this.stderr.join(''));
    this.write(
      `${this.head},"k":"stop","pid":${process.pid},"t":"${now()}","lost":${lost},"tracer_cpu_us":${cpuUs ?? 'null'}` +
        `${problem ? `,"tracer_said":${JSON.stringify(problem.slice(0, 500))}` : ''}}\n`,
    );
    return { lost, cpuUs };
  }

  private async readNew(): Promise<void> {
    if (this.out === null) {
      try {
        this.out = await open(this.outFile, 'r');
      } catch {
        return; // bpftrace has not written yet
      }
    }
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await this.out.read(buffer, 0, buffer.length, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      const text = this.carry + buffer.toString('latin1', 0, bytesRead);
      const end = text.lastIndexOf('\n') + 1;
      this.carry = text.slice(end);
      if (end === 0) continue;
      const { records, lost, events, put } = splitOutput(end === text.length ? text : text.slice(0, end), this.head);
      this.lost += lost;
      this.events += events;
      this.put += put;
      if (records) this.write(records);
    }
  }
}

/** Resolves at the ready signal; rejects when bpftrace exits first or takes too long. */
function whenReady(proc: ChildProcess, stderr: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(poke);
      clearTimeout(timeout);
      process.off(READY_SIGNAL, onReady);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish();
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`bpftrace exited (${signal ?? code}) before its probes were attached: ${trimmedStderr(stderr.join('')) || 'it said nothing'}`));
    process.on(READY_SIGNAL, onReady);
    proc.on('exit', onExit);
    proc.once('error', (err) => finish(new Error(`cannot run bpftrace: ${err.message}`)));
    // The script's last probe answers a kill(pid, 0) of ours with the signal.
    const poke = setInterval(() => process.kill(process.pid, 0), 20);
    const timeout = setTimeout(() => finish(new Error(`bpftrace did not attach its probes within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
  });
}

async function bpftraceVersion(bpftrace: string): Promise<string> {
  try {
    const { stdout } = await ownSpawn(() => promisify(execFile)(bpftrace, ['--version']));
    return stdout.trim();
  } catch {
    return 'bpftrace';
  }
}

/** user + system CPU of a process, µs, from /proc (USER_HZ is 100 on Linux). */
async function cpuOf(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5); the slice starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** The in-kernel run time of bpftrace's programs, when the kernel counts it (sysctl kernel.bpf_stats_enabled=1). */
export async function bpfRunTime(pid: number): Promise<{ ns: number; runs: number } | null> {
  try {
    let ns = 0;
    let runs = 0;
    for (const fd of await readdir(`/proc/${pid}/fdinfo`)) {
      const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
      const t = /^run_time_ns:\s+(\d+)/m.exec(info);
      const c = /^run_cnt:\s+(\d+)/m.exec(info);
      if (t && c) {
        ns += Number(t[1]);
        runs += Number(c[1]);
      }
    }
    return { ns, runs };
  } catch {
    return null;
  }
}
