/**
 * A TCP connection as the kernel stamps name it, "local>peer", written the
 * way the tracer's script writes it (ntop, IPv6 in brackets), so that a
 * record and the kernel's lines meet on the same string.
 */
import type { Socket } from 'node:net';
import type { FrameAt } from '../trace/records.js';

const CONN = Symbol('faasbench.conn');
type Named = Socket & { [CONN]?: string };

const address = (a: string | undefined) => (a === undefined ? '?' : a.includes(':') ? `[${a}]` : a);

/** The socket's name, worked out once per socket; null before it is connected. */
export function connOf(socket: Socket): string | null {
  const s = socket as Named;
  const known = s[CONN];
  if (known !== undefined) return known;
  if (s.remotePort === undefined || s.localPort === undefined) return null;
  return (s[CONN] = `${address(s.localAddress)}:${s.localPort}>${address(s.remoteAddress)}:${s.remotePort}`);
}

/** A frame's place: its connection, and its first byte's offset in the stream. */
export function frameAt(socket: Socket, off: number): FrameAt {
  return { conn: connOf(socket) ?? '?', off };
}
