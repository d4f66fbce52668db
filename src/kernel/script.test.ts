import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildScript, SLOTS, tracepointsOf, type KernelWatch } from './script.js';
import { kernelRecordHead } from '../trace/records.js';
import { splitOutput, trimmedStderr } from './output.js';

const gateway: KernelWatch = {
  role: 'gateway',
  host: 'gw "one" 100%',
  pid: 4242,
  serve: [{ port: 8080, mode: 'msg', sends: true }],
  dial: [{ port: 7070, mode: 'seg' }],
};

/** What bpftrace's printf makes of a format string of the script, its conversions filled in order. */
function printed(format: string, values: (string | number)[]): string {
  const unescaped = format.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  let k = 0;
  return unescaped.replace(/%%|%(?:ll)?[dus]/g, (m) => (m === '%%' ? '%' : String(values[k++])));
}

test("every line the script prints is a JSON record with the role's host, however odd its name", () => {
  const script = buildScript(gateway);
  const formats = [...script.matchAll(/printf\("((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  assert.equal(formats.length, 2, 'sock (IPv4, IPv6): the other events wait in maps');
  for (const f of formats) {
    const values = [...f.matchAll(/%(?:ll)?[dus]/g)].map((m, i) => (m[0] === '%s' ? `10.0.0.${i}` : 1000 + i));
    const line = printed(f, values);
    assert.ok(line.endsWith('\n'));
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record.role, 'gateway');
    assert.equal(record.type, 'kernel');
    assert.equal(record.host, 'gw "one" 100%');
    assert.match(String(record.t), /^\d+$/, 'stamps are decimal strings');
  }
});

test('the script watches the ports asked for, each in its mode, and traces sends only of served sockets that ask', () => {
  const script = buildScript(gateway);
  assert.match(script, /args->sport == 8080 \|\| \(args->dport == 7070 && @mine\[args->skaddr\]\)/);
  assert.match(script, /if \(\$dport == 7070\) \{\s*\/\/ The segment's offset/, 'the worker connections: segments with offsets');
  assert.match(script, /if \(\$sport == 8080\) \{\s*\/\/ A new message/, 'the HTTP connections: message starts');
  assert.match(script, /tracepoint:tcp:tcp_sendmsg_locked\n\/pid == 4242 /);
  assert.match(script, /tracepoint:sched:sched_process_exit\n\/pid == 4242 && tid == 4242\//, 'exits with the role');
  assert.ok(script.trimEnd().endsWith('}') && script.lastIndexOf('sys_enter_kill') > script.lastIndexOf('tcp_probe'), 'the ready probe is attached last');

  const worker = buildScript({ role: 'worker', host: 'w', pid: 7, serve: [{ port: 7070, mode: 'seg' }], dial: [] });
  assert.doesNotMatch(worker, /sendmsg|sock_send_length|@mine|@nxt/, 'a worker traces no sends and no message starts');
  assert.match(worker, /if \(1\) \{/, 'one mode for all its sockets: no test');
  assert.deepEqual(tracepointsOf({ role: 'worker', host: 'w', pid: 7, serve: [{ port: 1, mode: 'seg' }], dial: [] }), [
    'tcp/tcp_probe', 'tcp/tcp_destroy_sock', 'sched/sched_process_exit', 'syscalls/sys_enter_kill',
  ]);
  assert.ok(tracepointsOf(gateway).includes('tcp/tcp_sendmsg_locked') && tracepointsOf(gateway).includes('sock/sock_send_length'));
  assert.doesNotMatch(script, /ns\.inum/, 'no namespace given: any');
  assert.match(buildScript({ ...gateway, netns: 4026531833 }), /skc_net\.net->ns\.inum != 4026531833\) \{ return; \}/, 'only the role\'s own network namespace');
  assert.throws(() => buildScript({ ...gateway, serve: [{ port: 0, mode: 'msg' }] }), /bad port 0/);
  assert.throws(() => buildScript({ ...gateway, serve: [], dial: [] }), /at least one port/);
});

test("a gateway's dialled sockets are every TCP socket it sent on that none of its servers accepted, whatever the remote port", () => {
  const script = buildScript({ ...gateway, dial: [], dialled: 'seg', otherServers: [9464] });
  assert.match(script, /args->sport == 8080 \|\| @mine\[args->skaddr\]\)\//, 'no worker port in the filter: workers that join later are traced');
  assert.match(script, /if \(\(\$sport != 8080\)\) \{\s*\/\/ The segment's offset/, 'the dialled connections: segments with offsets');
  assert.match(script, /if \(@mine\[\$sk\] == 0 && \$proto == 6\) \{\s*\$lport = [^;]+skc_num;\s*if \(\$lport != 8080 && \$lport != 9464\) \{ @mine\[\$sk\] = 1; \}/, 'marked at its first send, unless accepted by the gateway or its metrics server');
  const front = buildScript({ role: 'gateway', host: 'g', pid: 9, serve: [{ port: 8080, mode: 'seg' }], dial: [], dialled: 'seg' });
  assert.match(front, /if \(1\) \{/, 'the TCP front: segments on every socket');
  assert.ok(tracepointsOf({ role: 'gateway', host: 'g', pid: 9, serve: [{ port: 8080, mode: 'seg' }], dial: [], dialled: 'seg' }).includes('sock/sock_send_length'));
});

test('message starts, segments and sends are stored in the map of their second, and the map two seconds back printed and cleared', () => {
  const script = buildScript(gateway);
  // A served message waits for its response's send and is stored with it (3: both); alone (0) only when never answered.
  for (const [kind, name] of [[0, 'msg'], [1, 'seg'], [3, 'msg and send']] as const) {
    for (let slot = 0; slot < SLOTS; slot++) {
      assert.match(script, new RegExp(`@e${slot}\\[${kind}, \\(uint64\\)\\S+, \\(uint64\\)\\$\\w+, \\(int64\\)\\S+\\] = \\(uint64\\)\\S+;`), `${name} in slot ${slot}`);
    }
  }
  assert.doesNotMatch(script, /@e\d\[2, /, 'no send stored alone');
  assert.match(script, /@e0\[3, \(uint64\)@ck\[\$sk\], \(uint64\)\$m, \(int64\)\$t\]/, 'the message\'s stamp and the send\'s in one entry');
  // seg; msg on a caller's socket (none here: the branch is still written), a msg never answered, both, a msg whose connection closed.
  assert.equal([...script.matchAll(/@put = count\(\);/g)].length, 5, 'every stored event counted');
  assert.match(script, /\$slot = \(\$now \/ 1000000000\) % 4;/);
  assert.match(script, /interval:ms:500\n\{[^}]*\$done = \(nsecs \/ 1000000000 \+ 2\) % 4;/);
  for (let slot = 0; slot < SLOTS; slot++) assert.match(script, new RegExp(`print\\(@e${slot}\\); clear\\(@e${slot}\\); \\}`), `slot ${slot} printed when due`);
  const end = script.slice(script.indexOf('END'));
  for (let slot = 0; slot < SLOTS; slot++) assert.match(end, new RegExp(`print\\(@e${slot}\\);`), `slot ${slot} printed at the end`);
  assert.match(end, /print\(@put\);/);
});

test("bpftrace's map lines become record lines, its own lines are taken out, and its lost and stored events counted", () => {
  const head = kernelRecordHead('gateway', 'gw-1');
  assert.deepEqual(splitOutput('{"a":1}\n{"b":2}\n', head), { records: '{"a":1}\n{"b":2}\n', lost: 0, events: 0, put: 0 });
  assert.deepEqual(splitOutput('{"a":1}\n\nLost 27 events\n{"b":2}\nLost 3 events\n', head), { records: '{"a":1}\n{"b":2}\n', lost: 30, events: 0, put: 0 });
  assert.deepEqual(splitOutput('Lost 5 events\n', head), { records: '', lost: 5, events: 0, put: 0 });
  const out = splitOutput(
    '@e2[1, 8240, 26301424193511, 18842]: 96\n@e2[0, 8231, 26301424191136, 0]: 0\n\n@e0[2, 8231, 26301424291136, 0]: 0\n@e0[3, 8231, 26301424391136, 26301424491136]: 0\n@put: 4\n\n@put: 0\n',
    head,
  );
  assert.equal(out.events, 4, 'entries, as the script counts them');
  assert.equal(out.put, 4);
  assert.equal(out.lost, 0);
  assert.deepEqual(
    out.records.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown),
    [
      { role: 'gateway', type: 'kernel', host: 'gw-1', k: 'seg', sock: 8240, t: '26301424193511', off: 18842, len: 96 },
      { role: 'gateway', type: 'kernel', host: 'gw-1', k: 'msg', sock: 8231, t: '26301424191136' },
      { role: 'gateway', type: 'kernel', host: 'gw-1', k: 'send', sock: 8231, t: '26301424291136' },
      { role: 'gateway', type: 'kernel', host: 'gw-1', k: 'msg', sock: 8231, t: '26301424391136' },
      { role: 'gateway', type: 'kernel', host: 'gw-1', k: 'send', sock: 8231, t: '26301424491136' },
    ],
  );
  assert.equal(
    trimmedStderr("ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try \"ulimit -l 8192\" to fix the problem\nstdin:3:5: ERROR: Unknown struct\n   more\n"),
    'stdin:3:5: ERROR: Unknown struct more',
  );
});
