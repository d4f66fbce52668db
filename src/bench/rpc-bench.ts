/**
 * RPC link: faasbench's client and worker against a bare msgpack echo over
 * one TCP connection, both on loopback in child processes.
 */
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { RpcClient } from '../rpc/client.js';
import { decodeMessage, encodeMessage } from '../rpc/codec.js';
import { FrameDecoder } from '../rpc/framing.js';
import { startWorkerProcess } from '../testing/processes.js';
import { median, startScript } from './children.js';

type Call = () => Promise<unknown>;

/** Calls per second with `inFlight` calls kept outstanding, for `total` calls. */
async function throughput(call: Call, inFlight: number, total: number): Promise<number> {
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < total) {
        started++;
        await call();
      }
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

/** Median latency in µs of `total` calls made one at a time. */
async function latencyP50(call: Call, total: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < total; i++) {
    const t = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return median(samples);
}

/** The bare client for the echo: one socket, calls matched by id, a write per call. */
async function echoClient(port: number): Promise<{ call: Call; close: () => void }> {
  const socket: Socket = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((r) => socket.once('connect', r));
  const pending = new Map<number, () => void>();
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) {
      const m = decodeMessage(body);
      if (m.t === 'reply') {
        pending.get(m.cid)?.();
        pending.delete(m.cid);
      }
    }
  });
  let cid = 0;
  return {
    call: () =>
      new Promise<void>((resolve) => {
        const id = ++cid;
        pending.set(id, resolve);
        socket.write(encodeMessage({ t: 'call', cid: id, rid: `e${id}`, fn: 'empty', args: {} }));
      }),
    close: () => socket.destroy(),
  };
}

export interface RpcBenchResult {
  oursCallsPerSec: number;
  echoCallsPerSec: number;
  oursP50us: number;
  echoP50us: number;
}

export async function rpcBench(rounds: number, calls: number): Promise<RpcBenchResult> {
  // The floor (functions on the worker's loop): what is measured is the path to the worker, not an isolation mode.
  const worker = await startWorkerProcess(['--isolation', 'inline']);
  const echo = await startScript('./echo-server.js');
  const client = new RpcClient({ workers: [worker.address], logger: pino({ level: 'warn' }), timeoutMs: 10_000 });
  await client.whenAnyReady();
  const bare = await echoClient(echo.port);
  const ours: Call = () => client.call('bench', 'empty', {});
  const r = { ours: [] as number[], echo: [] as number[], oursLat: [] as number[], echoLat: [] as number[] };
  try {
    await throughput(ours, 64, calls / 4); // warm-up both
    await throughput(bare.call, 64, calls / 4);
    for (let i = 0; i < rounds; i++) {
      r.ours.push(await throughput(ours, 64, calls));
      r.echo.push(await throughput(bare.call, 64, calls));
      r.oursLat.push(await latencyP50(ours, calls / 10));
      r.echoLat.push(await latencyP50(bare.call, calls / 10));
    }
  } finally {
    client.close();
    bare.close();
    echo.stop();
    await worker.stop();
  }
  return {
    oursCallsPerSec: median(r.ours),
    echoCallsPerSec: median(r.echo),
    oursP50us: median(r.oursLat),
    echoP50us: median(r.echoLat),
  };
}
