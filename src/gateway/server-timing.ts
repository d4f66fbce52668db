import type { WorkerStamps } from '../trace/records.js';

const NAMES = ['gateway_in;dur=', ', rpc_link;dur=', ', worker_queue;dur=', ', function;dur=', ', worker_out;dur='].map((n) => Buffer.from(n));
const header = Buffer.allocUnsafe(NAMES.reduce((n, b) => n + b.length, 0) + 5 * 24);

/**
 * ms with µs precision: the nearest µs, as Server-Timing's `dur` (a number of
 * ms), written into `out` at `at`; returns where it ends.
 */
function writeDur(out: Buffer, at: number, ns: number): number {
  let us = Math.round(ns / 1e3);
  if (us < 0) (out[at++] = 0x2d /* - */), (us = -us);
  const frac = us % 1000;
  let ms = (us - frac) / 1000;
  const from = at;
  do {
    out[at++] = 0x30 + (ms % 10);
    ms = Math.floor(ms / 10);
  } while (ms > 0);
  for (let i = from, j = at - 1; i < j; i++, j--) {
    const digit = out[i]!;
    out[i] = out[j]!;
    out[j] = digit;
  }
  out[at++] = 0x2e; // .
  out[at++] = 0x30 + Math.floor(frac / 100);
  out[at++] = 0x30 + (Math.floor(frac / 10) % 10);
  out[at++] = 0x30 + (frac % 10);
  return at;
}

/**
 * The Server-Timing header (W3C Server Timing) of an answer the worker
 * replied to: the gateway's stages known before it responds, computed as
 * the analysis computes them from the record (docs/measurement.md), so a
 * browser's devtools shows the same values the record holds. The stage
 * names alone, without a `desc`: the header goes out on every answer.
 * It is written into one buffer and read out as one string: built with
 * BigInt differences and string concatenation it was a fourteenth of the
 * gateway's allocations. Differences are taken in doubles: a stamp past
 * 2^53 ns (104 days of uptime) loses a few ns, far below the header's 1 µs.
 */
export function serverTiming(t1: bigint, t2: bigint, t4: bigint, w: WorkerStamps): string {
  const recv = Number(w.t3_recv);
  const start = Number(w.t3_start);
  const end = Number(w.t3_end);
  const send = Number(w.t3_send);
  const out = Number(t2);
  let at = writeDur(header, putName(0, 0), out - Number(t1));
  at = writeDur(header, putName(1, at), Number(t4) - out - (send - recv));
  at = writeDur(header, putName(2, at), start - recv);
  at = writeDur(header, putName(3, at), end - start);
  at = writeDur(header, putName(4, at), send - end);
  return header.toString('latin1', 0, at);
}

/** Stage `i`'s name into the header at `at`, byte by byte (Buffer's copy() costs more on a dozen bytes); returns where it ends. */
function putName(i: number, at: number): number {
  const name = NAMES[i]!;
  for (let k = 0; k < name.length; k++) header[at++] = name[k]!;
  return at;
}

/** One duration as the header writes it. */
export function durMs(ns: number | bigint): string {
  return header.toString('latin1', 0, writeDur(header, 0, Number(ns)));
}
