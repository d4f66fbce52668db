/**
 * The bpftrace program of one role process: which of its sockets to watch
 * and what to print of them, as record lines ready for its record file
 * (docs/records.md#kernel-stamps). Tracepoints only, no kprobes: they are a
 * kernel interface that stays put across versions. BTF (the kernel's own type
 * information) gives two fields the tracepoints lack: a segment's place in
 * its byte stream, and the socket's addresses.
 *
 * What is filtered and aggregated happens in the kernel, so that a role at
 * 150 connections keeps about one event per message, not per packet:
 * - `msg`: on a socket that carries one request at a time (HTTP/1.1 without
 *   pipelining, a caller's RPC connection), the first data segment after
 *   this side last sent: the first segment of the next message.
 * - `seg`: on a socket that carries many frames at once (the RPC link), every
 *   data segment with its byte offset in the stream, so that a frame's first
 *   segment can be found from the frame's own offset.
 * - `send`: on a socket served with `sends`, the moment the first `send` after
 *   a message began: tcp_sendmsg_locked's first firing in that system call
 *   (the kernel took the response's first byte), paired with the socket by
 *   sock_send_length at the end of the same call. Stored with its message as
 *   one entry (`both`); a message in flight when the tracer stops is not
 *   stored (its request has no response to split).
 * - `sock`: once per socket, when first seen: its kernel cookie and both ends.
 *
 * Only `sock` is printed as it happens. The other events wait in the kernel,
 * in maps, and bpftrace prints them in bulk twice a second (tracer.ts turns
 * them into record lines): a printf is a perf-buffer event that wakes
 * bpftrace, measured at ~5 µs of kernel time per event on this machine's VM
 * and ~10 µs more of bpftrace's CPU; a map update costs well under 1 µs.
 * A map fills per second of events (SLOTS of them, used in turn), so that
 * the one bpftrace prints and clears is one no program writes into: two
 * seconds behind, and next used a second later at the earliest. `@put`
 * counts what was stored, so a full map or a late clear is counted as lost.
 * A dialled socket counts only once this process has sent on it: another
 * process of the host dialling the same port (five gateways, one worker) is
 * not ours.
 */

import { kernelRecordHead } from '../trace/records.js';

export type WatchMode = 'msg' | 'seg';

export interface KernelWatch {
  role: 'caller' | 'gateway' | 'worker';
  /** The `host` of the record lines. */
  host: string;
  /** The role's process: sends and the ready probe are its own. */
  pid: number;
  /**
   * The inode of the role's network namespace: the tracepoints see every
   * namespace's sockets, and another host on this machine (a network
   * namespace) may serve the same port. Null: any namespace.
   */
  netns?: number | null;
  /** Sockets this process accepted on these local ports. */
  serve: { port: number; mode: WatchMode; sends?: boolean }[];
  /** Sockets this process dialled to these remote ports. */
  dial: { port: number; mode: WatchMode }[];
  /**
   * Also every other TCP socket this process has sent on, whatever its remote
   * port, in this mode: a gateway's worker connections, including those of
   * workers that join after the start (a workers file, a name resolved anew).
   */
  dialled?: WatchMode;
  /** Local ports of this process's other servers (metrics): their sockets are not `dialled`. */
  otherServers?: number[];
}

/**
 * Sent to the role once every probe is attached, in answer to its kill(pid, 0)
 * (bpftrace's output is block-buffered, so a printed mark would come late).
 * Not SIGUSR1: node keeps that for its inspector.
 */
export const READY_SIGNAL = 'SIGUSR2';

/** Maps of buffered events, one per second, used in turn (see above). */
export const SLOTS = 4;
/** The event kinds as the maps key them: their first key. */
export const EVENT_KINDS = ['msg', 'seg', 'send'] as const;
/**
 * `both`: a served message and its response's send in one entry
 * (`[3, sock, t_msg, t_send] = 0`), printed as a msg and a send line: bpftrace
 * pays about four bpf() calls per entry it prints and clears (get_next_key,
 * lookup; get_next_key, delete), so one entry per request, not two.
 */
export const BOTH = 3;
const KIND = { msg: 0, seg: 1, send: 2, both: BOTH } as const;

/**
 * Stores one event (at `t`, or now: `$now`) in this second's map (`@e<slot>[kind, sock, t, off] =
 * len`) and counts it. Every key and value cast alike: one map, one type.
 */
function put(kind: keyof typeof KIND, sock: string, t: string, off = '0', len = '0', indent = '  '): string {
  const args = `[${KIND[kind]}, (uint64)${sock}, (uint64)${t}, (int64)${off}] = (uint64)${len};`;
  const branches = Array.from({ length: SLOTS }, (_, i) => `${i === 0 ? '' : ' else '}${i === SLOTS - 1 ? '' : `if ($slot == ${i}) `}{ @e${i}${args} }`);
  return `${indent}$now = nsecs;\n${indent}$slot = ($now / 1000000000) % ${SLOTS};\n${indent}${branches.join('')}\n${indent}@put = count();\n`;
}

/** The tracepoints a watch needs (the ready probe's included), as category/name under tracefs' events/. */
export function tracepointsOf(w: KernelWatch): string[] {
  const points = ['tcp/tcp_probe', 'tcp/tcp_destroy_sock', 'sched/sched_process_exit', 'syscalls/sys_enter_kill'];
  if (w.dial.length > 0 || w.dialled || w.serve.some((s) => s.sends)) points.push('sock/sock_send_length');
  if (w.serve.some((s) => s.sends)) points.push('tcp/tcp_sendmsg_locked');
  return points;
}

export function buildScript(w: KernelWatch): string {
  if (w.serve.length + w.dial.length === 0 && !w.dialled) throw new Error('a kernel watch needs at least one port');
  for (const p of [...w.serve, ...w.dial, ...(w.otherServers ?? []).map((port) => ({ port }))]) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new Error(`bad port ${p.port}`);
  }
  const head = bpfString(kernelRecordHead(w.role, w.host));
  const line = (k: string, rest: string) => `${head},\\"k\\":\\"${k}\\",\\"sock\\":%llu,\\"t\\":\\"%llu\\"${rest}}\\n`;
  const sends = w.serve.filter((s) => s.sends);
  const marks = w.dial.length > 0 || w.dialled !== undefined;
  const anySend = sends.length > 0 || marks;
  const ours = [
    ...w.serve.map((s) => `args->sport == ${s.port}`),
    // A dialled socket is ours once we sent on it (@mine, set below).
    ...(w.dialled ? ['@mine[args->skaddr]'] : w.dial.map((d) => `(args->dport == ${d.port} && @mine[args->skaddr])`)),
  ].join(' || ');
  // The sockets we send on that are not dialled: those our servers accepted (by their local port).
  const accepted = [...w.serve.map((s) => s.port), ...(w.otherServers ?? [])].map((port) => `$lport != ${port}`).join(' && ');
  const segWhen = modeTest(w, 'seg');
  const msgWhen = modeTest(w, 'msg');
  const armWhen = sends.map((s) => `$sport == ${s.port}`).join(' || ');

  return `// faasbench --kernel-stamps: ${w.role} pid ${w.pid} (src/kernel/script.ts)
${sends.length > 0 ? `BEGIN
{
  // @pend's types, for bpftrace 0.17, which reads it before the line that first writes it.
  @pend[(uint64)0] = (uint64)0;
  delete(@pend[(uint64)0]);
}
` : ''}tracepoint:tcp:tcp_probe
/args->data_len > 0 && (${ours})/
{
  // Every field read once, up front: bpftrace 0.17 can emit a context read the verifier refuses when args-> is read inside a branch.
  $sk = args->skaddr;
  $c = args->sock_cookie;
  $sport = args->sport;
  $dport = args->dport;
  $family = args->family;
  $len = args->data_len;
  $nxt = args->snd_nxt;
  $skb = args->skbaddr;
${w.netns ? `  if (((struct sock *)$sk)->__sk_common.skc_net.net->ns.inum != ${w.netns}) { return; }
` : ''}  $first = @ck[$sk] == 0;
  if ($first) {
    @ck[$sk] = $c;
    $s = (struct sock *)$sk;
    if ($family == 2) {
      printf("${line('sock', ',\\"conn\\":\\"%s:%u>%s:%u\\"')}", $c, nsecs,
        ntop(2, $s->__sk_common.skc_rcv_saddr), $sport, ntop(2, $s->__sk_common.skc_daddr), $dport);
    } else {
      printf("${line('sock', ',\\"conn\\":\\"[%s]:%u>[%s]:%u\\"')}", $c, nsecs,
        ntop(10, $s->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8), $sport,
        ntop(10, $s->__sk_common.skc_v6_daddr.in6_u.u6_addr8), $dport);
    }
  }
${segWhen ? `  if (${segWhen}) {
    // The segment's offset in the stream: bytes taken in order so far, plus how far its sequence number lies from the next expected one.
    $tp = (struct tcp_sock *)$sk;
    $th = (struct tcphdr *)((struct sk_buff *)$skb)->data;
    $ahead = (int32)(bswap($th->seq) - $tp->rcv_nxt);
    $off = (int64)$tp->bytes_received + $ahead;
${put('seg', '$c', '$now', '$off', '$len', '    ')}  }
` : ''}${msgWhen ? `  if (${msgWhen}) {
    // A new message: the first data since this side's send sequence moved.
    if ($first || @nxt[$sk] != $nxt) {
      @nxt[$sk] = $nxt;
${armWhen ? `      if (${armWhen}) {
        // Held until its response's first send, stored with it (\`both\`); one never answered is stored alone when the next begins.
        $tm = nsecs;
        $held = @pend[(uint64)$sk];
        if ($held != 0) {
${put('msg', '$c', '$held', '0', '0', '          ')}        }
        @pend[(uint64)$sk] = $tm;
      } else {
${put('msg', '$c', '$now', '0', '0', '        ')}      }
` : put('msg', '$c', '$now', '0', '0', '      ')}    }
  }
` : ''}}
${anySend ? `${sends.length > 0 ? `tracepoint:tcp:tcp_sendmsg_locked
/pid == ${w.pid} && @start[tid] == 0/
{
  @start[tid] = nsecs;
}
` : ''}tracepoint:sock:sock_send_length
/pid == ${w.pid}/
{
  $sk = args->sk;
  $proto = args->protocol;
${marks ? `  if (@mine[$sk] == 0 && $proto == 6) {\n    $lport = ((struct sock *)$sk)->__sk_common.skc_num;\n    if (${accepted || '1'}) { @mine[$sk] = 1; }\n  }\n` : ''}${sends.length > 0 ? `  $t = @start[tid];
  delete(@start[tid]);
  $m = @pend[(uint64)$sk];
  if ($m != 0 && $t != 0) {
    delete(@pend[(uint64)$sk]);
${put('both', '@ck[$sk]', '$m', '$t', '0', '    ')}  }
` : ''}}
` : ''}tracepoint:tcp:tcp_destroy_sock
{
  $sk = args->skaddr;
${sends.length > 0 ? `  // A message never answered before its connection closed.
  $m = @pend[(uint64)$sk];
  if ($m != 0) {
${put('msg', '@ck[$sk]', '$m', '0', '0', '    ')}    delete(@pend[(uint64)$sk]);
  }
` : ''}  delete(@ck[$sk]);
${msgWhen ? '  delete(@nxt[$sk]);\n' : ''}${marks ? '  delete(@mine[$sk]);\n' : ''}}
tracepoint:sched:sched_process_exit
/pid == ${w.pid} && tid == ${w.pid}/
{
  // The role is gone (even by SIGKILL): no tracer outlives it.
  exit();
}
// Last, so that when it fires every probe above is attached: the role pokes itself with kill(pid, 0) until it gets the signal.
tracepoint:syscalls:sys_enter_kill
/args->pid == ${w.pid} && args->sig == 0 && @ready == 0/
{
  @ready = 1;
  signal("${READY_SIGNAL}");
}
interval:ms:500
{
  // The map two seconds back: no program writes into it until a second from now.
  $done = (nsecs / 1000000000 + ${SLOTS - 2}) % ${SLOTS};
${Array.from({ length: SLOTS }, (_, i) => `  ${i === 0 ? '' : 'else '}${i === SLOTS - 1 ? '' : `if ($done == ${i}) `}{ print(@e${i}); clear(@e${i}); }`).join('\n')}
}
END
{
${Array.from({ length: SLOTS }, (_, i) => `  print(@e${i});\n  clear(@e${i});\n`).join('')}  print(@put);
  clear(@put);
  clear(@ck);
${msgWhen ? '  clear(@nxt);\n' : ''}${sends.length > 0 ? '  clear(@pend);\n  clear(@start);\n' : ''}${marks ? '  clear(@mine);\n' : ''}  clear(@ready);
}
`;
}

/** The condition (on tcp_probe's fields, read into variables) under which a watched socket is in this mode; '' when none is. */
function modeTest(w: KernelWatch, mode: WatchMode): string {
  const tests = [
    ...w.serve.filter((s) => s.mode === mode).map((s) => `$sport == ${s.port}`),
    ...w.dial.filter((d) => d.mode === mode).map((d) => `$dport == ${d.port}`),
    // Dialled: any watched socket that is not a served one.
    ...(w.dialled === mode ? [w.serve.length === 0 ? '1' : `(${w.serve.map((s) => `$sport != ${s.port}`).join(' && ')})`] : []),
  ];
  // One mode for every watched socket: no test needed.
  const all = w.serve.length + w.dial.length + (w.dialled ? 1 : 0);
  return tests.length === 0 ? '' : tests.length === all ? '1' : tests.join(' || ');
}

/** A JSON string (with its quotes) inside a bpftrace printf format: quotes and backslashes escaped, % doubled. */
function bpfString(json: string): string {
  return json.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
}
