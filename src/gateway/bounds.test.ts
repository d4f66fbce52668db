/**
 * What one HTTP client can make the gateway and its worker hold (issue 30),
 * with the real binaries: requests piled on one connection or across many,
 * answers never read, requests abandoned, label values chosen by clients, a
 * large JSON answer beside a small one, and the metrics port.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PATIENT, readRecords, startGatewayProcess, startRole, startWorkerProcess, waitFor, type RoleProcess } from '../testing/processes.js';
import { parseExposition, sampleValue } from '../testing/prometheus.js';
import { bytesUntilClose, rssMb, within } from '../testing/guards.js';
import { rawRpc } from '../testing/rpc-client.js';

let dir: string;
let worker: RoleProcess & { address: string };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faasbench-bounds-'));
  worker = await startWorkerProcess(['--log', join(dir, 'worker.ndjson'), '--metrics-port', '0']);
});

after(async () => {
  await worker?.stop();
  await rm(dir, { recursive: true, force: true });
});

function rawSocket(url: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {});
  return socket;
}

/** Statuses and error codes of every answer on a connection, read to its close. */
function answersOf(socket: Socket): Promise<string[]> {
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    // Only the heads and error bodies matter; the payloads are dropped as they come.
    text += d.replace(/[a-z]{64,}/g, '');
  });
  return new Promise((resolve) =>
    socket.once('close', () => resolve([...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n[\s\S]*?\r\n\r\n(\{"error":\{"code":"(\w+)")?/g)].map((m) => `${m[1]}${m[3] ? ` ${m[3]}` : ''}`))),
  );
}

for (const framework of ['node', 'fastify']) {
  test(`finding 3 (${framework}): requests pipelined beyond a connection's limit are answered 503 overloaded, memory stays bounded`, async () => {
    const gateway = await startGatewayProcess(framework, worker.address);
    try {
      const base = { gateway: rssMb(gateway.proc.pid!), worker: rssMb(worker.proc.pid!) };
      const socket = rawSocket(gateway.url);
      const answers = answersOf(socket);
      const get = 'GET /payload?bytes=8388608&format=raw HTTP/1.1\r\nHost: x\r\n\r\n';
      // 40 requests of 8 MiB in one write; the last one closes.
      socket.write(get.repeat(39) + get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      const got = await within(answers, 120_000, 'every answer');
      assert.equal(got.length, 40, got.join(', '));
      const refused = got.filter((a) => a === '503 overloaded').length;
      // The default limit is 16 per connection.
      assert.ok(refused >= 20, `${refused} of 40 refused: ${got.join(', ')}`);
      assert.ok(got.filter((a) => a === '200').length >= 1);
      const grew = { gateway: rssMb(gateway.proc.pid!) - base.gateway, worker: rssMb(worker.proc.pid!) - base.worker };
      assert.ok(grew.gateway < 800 && grew.worker < 800, `grew by ${grew.gateway.toFixed(0)} / ${grew.worker.toFixed(0)} MB`);
    } finally {
      await gateway.stop();
    }
  });
}

test('finding 3: requests beyond the gateway\'s total are answered 503 overloaded, whatever the connection', async () => {
  const gateway = await startGatewayProcess('node', worker.address, ['--max-inflight', '3']);
  try {
    const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${gateway.url}/sleep?ms=1500`).then(async (r) => `${r.status} ${r.status === 503 ? ((await r.json()) as { error: { code: string } }).error.code : ''}`.trim())));
    assert.equal(statuses.filter((s) => s === '200').length, 3, statuses.join(', '));
    assert.equal(statuses.filter((s) => s === '503 overloaded').length, 5, statuses.join(', '));
    assert.equal((await fetch(`${gateway.url}/empty`)).status, 200, 'served again once they are answered');
  } finally {
    await gateway.stop();
  }
});

test('finding 7: a client that reads none of its answers is disconnected, and its records say send_timeout', async () => {
  const file = join(dir, 'unread.ndjson');
  const gateway = await startGatewayProcess('node', worker.address, ['--send-timeout-ms', '1500', '--log', file]);
  try {
    const base = rssMb(gateway.proc.pid!);
    const sockets = Array.from({ length: 5 }, (_, i) => {
      const s = rawSocket(gateway.url);
      s.pause(); // reads nothing (so it cannot see the close either, until it reads again)
      s.write(`GET /payload?bytes=8388608&format=raw HTTP/1.1\r\nHost: x\r\nx-request-id: unread-${i}\r\n\r\n`);
      return s;
    });
    // The records are written when the gateway gives a connection up.
    await waitFor(async () => (await readRecords(file)).filter((r) => String(r.id).startsWith('unread-')).length === 5, 90_000, 'five records');
    const grew = rssMb(gateway.proc.pid!) - base;
    assert.ok(grew < 300, `the gateway holds ${grew.toFixed(0)} MB more`);
    // Reading again, a client gets what the kernel already held, then the end: not its 8 MiB.
    for (const s of sockets) {
      const got = await bytesUntilClose(s);
      assert.ok(got < 8 * 1024 * 1024, `a client got ${got} bytes`);
    }
  } finally {
    await gateway.stop();
  }
  for (const r of (await readRecords(file)).filter((x) => String(x.id).startsWith('unread-'))) {
    assert.deepEqual([r.status, r.error], [200, 'send_timeout'], JSON.stringify(r));
  }
});

test('finding 8: a request its client abandons is recorded and counted by the gateway, and cancelled at the worker', async () => {
  const file = join(dir, 'abandoned.ndjson');
  const gateway = await startGatewayProcess('node', worker.address, ['--log', file, '--metrics-port', '0']);
  try {
    const socket = rawSocket(gateway.url);
    socket.write('GET /sleep?ms=20000 HTTP/1.1\r\nHost: x\r\nx-request-id: abandoned-1\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    socket.destroy();
    await waitFor(async () => (await readRecords(file)).some((r) => r.id === 'abandoned-1'), 15_000, "the gateway's record");
    const g = (await readRecords(file)).find((r) => r.id === 'abandoned-1')!;
    assert.deepEqual([g.status, g.error, g.fn], [499, 'cancelled', 'sleep']);
    const samples = parseExposition(await (await fetch(String(gateway.ready.metrics))).text());
    assert.equal(sampleValue(samples, 'faasbench_gateway_requests_total', { fn: 'sleep', status: '499', code: 'cancelled' }), 1);
    // The worker stopped the sleep: its record comes long before the 20 s were up, and says why.
    await waitFor(async () => (await readRecords(join(dir, 'worker.ndjson'))).some((r) => r.id === 'abandoned-1'), 15_000, "the worker's record");
    const w = (await readRecords(join(dir, 'worker.ndjson'))).find((r) => r.id === 'abandoned-1')!;
    assert.equal(w.error, 'cancelled');
  } finally {
    await gateway.stop();
  }
});

test('finding 9: clients cannot fill the metrics\' label cap: sizes count as their function, unknown names as none', async () => {
  const gateway = await startGatewayProcess('node', worker.address, ['--metrics-port', '0']);
  try {
    for (let i = 1; i <= 220; i++) await (await fetch(`${gateway.url}/payload?bytes=${i}`)).arrayBuffer();
    const rpc = await rawRpc(worker.address);
    await rpc.burst(Array.from({ length: 220 }, (_, i) => ({ fn: `nobody-${i}` })));
    rpc.close();
    for (const path of ['/math?n=100', '/sleep?ms=1', '/no-such-route']) await (await fetch(gateway.url + path)).arrayBuffer();
    const gw = parseExposition(await (await fetch(String(gateway.ready.metrics))).text());
    const count = (labels: Record<string, string>) => sampleValue(gw, 'faasbench_gateway_requests_total', labels);
    assert.equal(count({ fn: 'payload', status: '200', code: '' }), 220);
    assert.equal(count({ fn: 'math', status: '200', code: '' }), 1);
    assert.equal(count({ fn: 'sleep', status: '200', code: '' }), 1);
    assert.equal(count({ fn: 'none', status: '404', code: 'not_found' }), 1);
    assert.ok(!gw.some((s) => s.labels.fn === 'other'), 'nothing counted as other');
    const wk = parseExposition(await (await fetch(String(worker.ready.metrics))).text());
    assert.equal(sampleValue(wk, 'faasbench_worker_calls_total', { fn: 'none', outcome: 'unknown_function', start: 'none' }), 220);
    assert.ok(!wk.some((s) => s.labels.fn?.startsWith('nobody-') || s.labels.fn === 'other'), 'no label a client chose');
    assert.ok(sampleValue(wk, 'faasbench_worker_calls_total', { fn: 'math', outcome: 'ok', start: 'cold' }) >= 1);
  } finally {
    await gateway.stop();
  }
});

/**
 * `n` connections fetch `path` once (the worker's instances make their
 * payloads), then `k` times each; returns the measured window in the
 * gateway's clock (hrtime: one per host).
 */
async function rounds(url: string, path: string, n: number, k: number): Promise<[bigint, bigint]> {
  const fetchAll = (times: number) =>
    Promise.all(Array.from({ length: n }, async () => {
      for (let i = 0; i < times; i++) await (await fetch(url + path)).arrayBuffer();
    }));
  await fetchAll(1);
  const from = process.hrtime.bigint();
  await fetchAll(k);
  return [from, process.hrtime.bigint()];
}

// The datapath change (issue 29) forwards a JSON answer's bytes instead of
// decoding and stringifying it in the gateway; until it lands, each large JSON
// answer costs the gateway's event loop its msgpack decoding and its
// JSON.stringify, which hold the loop for everyone (the finding: a concurrent
// /empty took 22-27 s). CPU time per answer, from the gateway's own
// saturation samples, is what holds the loop, and does not depend on how
// loaded the machine is.
test(
  "finding 10: a large JSON answer costs the gateway's loop no more than a raw answer of the same size (the worker makes its JSON text)",
  async () => {
    const file = join(dir, 'loop.ndjson');
    const gateway = await startGatewayProcess('node', worker.address, ['--log', file, '--sample-interval-ms', '100']);
    const [n, k] = [4, 3];
    try {
      const raw = await rounds(gateway.url, '/payload?bytes=8388608&format=raw', n, k);
      const json = await rounds(gateway.url, '/payload?bytes=8388608&format=json', n, k);
      await waitFor(async () => (await readRecords(file, 'samples')).some((x) => BigInt(x.t as string) > json[1]), 10_000, 'the last samples');
      const samples = await readRecords(file, 'samples');
      /** The gateway's CPU time (ms) per answer in a window: its samples that end in it, shared by its n × k answers. */
      const perAnswer = ([from, to]: [bigint, bigint]) =>
        samples
          .filter((x) => BigInt(x.t as string) > from && BigInt(x.t as string) <= to)
          .reduce((ms, x) => ms + (Number(x.cpu_user_us) + Number(x.cpu_system_us)) / 1000, 0) / (n * k);
      const [r, j] = [perAnswer(raw), perAnswer(json)];
      // The same bytes go out: a generous ratio, with a floor of 20 ms.
      assert.ok(j <= 3 * r + 20, `the gateway's CPU per 8 MiB answer: ${j.toFixed(0)} ms as JSON, ${r.toFixed(0)} ms raw`);
    } finally {
      await gateway.stop();
    }
  },
);

test('finding 17: the TCP front serves metrics, and metrics beyond loopback warn, or want a token', async () => {
  const front = await startGatewayProcess('tcp', worker.address, ['--metrics-port', '0']);
  try {
    assert.match(String(front.ready.metrics), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const rpc = await rawRpc(front.url.slice('tcp://'.length));
    await rpc.burst([{ fn: 'empty' }, { fn: 'empty' }]);
    rpc.close();
    const samples = parseExposition(await (await fetch(String(front.ready.metrics))).text());
    assert.equal(sampleValue(samples, 'faasbench_gateway_requests_total', { framework: 'tcp', fn: 'empty', status: '200', code: '' }), 2);
  } finally {
    await front.stop();
  }
  const open = await startRole(['gateway', '--framework', 'node', '--port', '0', '--worker', worker.address, '--metrics-host', '0.0.0.0', '--metrics-port', '0'], 'gateway listening', PATIENT);
  try {
    await waitFor(() => open.logs.some((l) => l.includes('beyond loopback without a token')), 10_000, 'the warning');
  } finally {
    await open.stop();
  }
  const token = 's3cret-token';
  const guarded = await startRole(
    ['gateway', '--framework', 'node', '--port', '0', '--worker', worker.address, '--metrics-host', '0.0.0.0', '--metrics-port', '0', '--metrics-token', token],
    'gateway listening',
    PATIENT,
  );
  try {
    assert.ok(!guarded.logs.some((l) => l.includes('without a token')));
    const port = new URL(String(guarded.ready.metrics)).port;
    const url = `http://127.0.0.1:${port}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  } finally {
    await guarded.stop();
  }
});
