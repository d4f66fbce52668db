/**
 * A client guessing the worker's secret: each further wrong guess from one
 * address is answered later, a right secret is still served at once, and the
 * refusals are logged as a summary rather than one line each.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { startWorkerProcess, waitFor } from '../testing/processes.js';

/** Says hello with `secret`; resolves with the first message back and how long it took. */
function hello(port: number, secret: string): Promise<{ t: string; code?: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const decoder = new FrameDecoder();
    const t0 = performance.now();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer to the hello'));
    }, 30_000);
    socket.on('connect', () => socket.write(encodeMessage({ t: 'hello', v: 1, secret })));
    socket.on('error', () => {});
    socket.on('data', (c: Buffer) => {
      const [body] = decoder.push(c);
      if (!body) return;
      clearTimeout(timer);
      socket.destroy();
      const m = decodeMessage(body) as unknown as { t: string; code?: string };
      resolve({ t: m.t, code: m.code, ms: performance.now() - t0 });
    });
  });
}

const refusalLines = (logs: string[]) => logs.filter((l) => l.includes('refused rpc connections'));

test('wrong guesses are answered ever later and logged as a summary; the right secret is not delayed', { timeout: 120_000 }, async () => {
  const worker = await startWorkerProcess(['--secret', 'open-sesame']);
  const port = Number(worker.address.split(':').pop());
  const started = performance.now();
  let refused = 0;
  try {
    const sequential = [];
    for (let i = 0; i < 4; i++) sequential.push(await hello(port, `guess-${i}`));
    refused += sequential.length;
    assert.deepEqual(sequential.map((r) => r.code), ['bad_secret', 'bad_secret', 'bad_secret', 'bad_secret']);
    // 0, 100, 200, 400 ms: a lower bound, which a slow machine only makes longer.
    assert.ok(sequential[3]!.ms >= 390, `the fourth wrong guess was answered after ${sequential[3]!.ms.toFixed(0)} ms`);
    assert.equal((await hello(port, 'open-sesame')).t, 'welcome', 'the right secret from the same address');

    // Many guesses at once: each refused, but only a few are even checked.
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => hello(port, `burst-${i}`)));
    refused += burst.length;
    assert.ok(burst.every((r) => r.code === 'bad_secret' || r.code === 'throttled'), JSON.stringify(burst.map((r) => r.code)));
    assert.ok(burst.some((r) => r.code === 'throttled'), 'at most a few guesses at once from one address are checked');
  } finally {
    await worker.stop();
  }
  // One line at once, then one summary per 10 s interval (and one at shutdown), counting every refusal.
  await waitFor(() => refusalLines(worker.logs).some((l) => l.includes('more since the previous line')), 10_000, 'the summary at shutdown');
  const lines = refusalLines(worker.logs).map((l) => JSON.parse(l) as { count?: number; code?: string; by?: string[] });
  const intervals = Math.ceil((performance.now() - started) / 10_000);
  assert.ok(lines.length <= 2 + intervals, `${lines.length} log lines for ${refused} refusals`);
  assert.equal(lines[0]!.code, 'bad_secret');
  assert.equal(lines.slice(1).reduce((n, l) => n + (l.count ?? 0), 0), refused - 1);
  assert.match(lines.at(-1)!.by!.join(' '), /127\.0\.0\.1 x\d+/);
});
