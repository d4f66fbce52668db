/**
 * The processes a function spawns, and their end. Every asynchronous spawn of
 * node:child_process (spawn, exec, execFile, fork) goes through
 * ChildProcess.prototype.spawn: patched where functions run (an instance's
 * thread or process, a pool thread, or the worker's own thread under
 * `--isolation inline`), it tells each child's pid to a ChildTracker, which
 * kills it, with every process below it, when the call that spawned it ends.
 *
 * What escapes: a synchronous spawn's own children that outlive it (spawnSync
 * of a shell that backgrounds one), and a child that daemonises (double fork
 * and setsid) before it is killed: neither is below anything we track any
 * more. In `--isolation process` the instance is a process group of its own,
 * killed whole when the instance ends, which catches those that only fork.
 * Linux only (/proc); elsewhere only the child itself is killed.
 */
import { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { spawningOwn } from '../own-spawn.js';

/** Where pool threads tell the worker's own thread of their children: a thread the pool terminates cannot kill them itself. */
const CHANNEL = 'faasbench-children';

/** A process, told apart from a later one with the same pid by its start time. */
export interface Spawned {
  pid: number;
  /** /proc/PID/stat's starttime (clock ticks since boot); null where /proc is not. */
  start: string | null;
}

/** pid → [ppid, starttime], from /proc/PID/stat (the command name may hold spaces and parentheses). */
function stat(pid: number | string): [number, string] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state, ppid, pgrp, … starttime is the 22nd field of the line, the 20th after the name.
  if (fields[0] === 'Z' || fields[0] === 'X') return null; // dead, not yet reaped
  return [Number(fields[1]), fields[19]!];
}

export function spawned(pid: number): Spawned {
  return { pid, start: stat(pid)?.[1] ?? null };
}

/** Whether `p` is still the process we spawned (alive, and its pid not reused). */
export function alive(p: Spawned): boolean {
  const s = stat(p.pid);
  return s !== null && (p.start === null || s[1] === p.start);
}

/** Kills `roots` and every process below them with SIGKILL; ignores those already gone. */
export function killTrees(roots: readonly Spawned[]): void {
  const live = roots.filter(alive);
  if (live.length === 0) return;
  const victims = new Set(live.map((p) => p.pid));
  // Parent links of every process, then everything below a root.
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    // no /proc: the roots alone
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (!s) continue;
    const list = children.get(s[0]);
    if (list) list.push(Number(entry));
    else children.set(s[0], [Number(entry)]);
  }
  const stack = [...victims];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop()!) ?? []) if (!victims.has(c)) (victims.add(c), stack.push(c));
  }
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  // A root spawned `detached` leads a process group: what it forked and left there dies too.
  for (const p of live) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // not a group leader
    }
  }
}

let hooked: ((p: Spawned) => void) | null = null;

/** Routes every later spawn of this thread to `onSpawn`. Once per thread (a thread has one copy of node:child_process). */
export function hookSpawns(onSpawn: (p: Spawned) => void): void {
  if (hooked) {
    hooked = onSpawn;
    return;
  }
  hooked = onSpawn;
  // Not in node's typings, but the one method every asynchronous spawn calls (lib/child_process.js).
  const proto = ChildProcess.prototype as unknown as { spawn(this: ChildProcess, ...args: unknown[]): unknown };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const result = spawn.apply(this, args);
    // The role's own helpers (the kernel tracer) are no function's children.
    if (this.pid !== undefined && !spawningOwn()) hooked?.(spawned(this.pid));
    return result;
  };
}

/**
 * Which calls a child may belong to: those running when it was spawned. It
 * is killed once all of them have ended, so a child never outlives the call
 * that made it; with one call at a time (an instance), exactly at its end.
 * A child spawned while no call runs (an instance's init, or a function still
 * running after its call timed out) belongs to `idle`: the instance, killed
 * with it, or nobody, killed at once.
 */
export class ChildTracker {
  private readonly running = new Set<object>();
  private readonly owned = new Map<Spawned, Set<object>>();
  private readonly ofInstance: Spawned[] = [];

  constructor(private readonly idle: 'instance' | 'kill' = 'instance') {}

  /** Install the spawn hook of this thread. */
  hook(onSpawn?: (p: Spawned) => void): this {
    hookSpawns((p) => {
      onSpawn?.(p);
      this.spawned(p);
    });
    return this;
  }

  /** In a pool thread: also tell the worker's thread (listen()) of every child. */
  tell(): this {
    const channel = new BroadcastChannel(CHANNEL);
    hookSpawns((p) => {
      channel.postMessage(p);
      this.spawned(p);
    });
    return this;
  }

  /** On the worker's thread: the children pool threads tell of count as spawned here, by the calls running now. */
  listen(): this {
    const channel = new BroadcastChannel(CHANNEL);
    channel.onmessage = (m) => this.spawned((m as { data: Spawned }).data);
    channel.unref();
    return this;
  }

  begin(call: object): void {
    this.running.add(call);
  }

  end(call: object): void {
    this.running.delete(call);
    if (this.owned.size === 0) return;
    const done: Spawned[] = [];
    for (const [p, owners] of this.owned) {
      owners.delete(call);
      if (owners.size === 0) {
        this.owned.delete(p);
        done.push(p);
      }
    }
    killTrees(done);
  }

  /** Every child still tracked, the instance's included: at the instance's end. */
  killAll(): void {
    const all = [...this.owned.keys(), ...this.ofInstance.splice(0)];
    this.owned.clear();
    killTrees(all);
  }

  private spawned(p: Spawned): void {
    if (this.running.size > 0) this.owned.set(p, new Set(this.running));
    else if (this.idle === 'instance') this.ofInstance.push(p);
    else killTrees([p]);
  }
}
