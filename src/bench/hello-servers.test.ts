/**
 * The gateway benchmark's bare proxies (hello-servers.js proxy PORT FRAMEWORK):
 * each framework's answers /empty only once its frame came back over TCP, so
 * the floor the gateway is held to pays the hop it claims to.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { FRAMEWORKS } from '../gateway/adapters/index.js';
import { startScript } from './children.js';

test('every framework’s bare proxy answers /empty after its frame comes back from the echo, and not before', async () => {
  // An echo that holds what it reads until the test lets it go.
  let held: { socket: Socket; chunk: Buffer }[] = [];
  let arrived: (() => void) | null = null;
  const echo = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      held.push({ socket, chunk });
      arrived?.();
    });
    socket.on('error', () => socket.destroy());
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  try {
    for (const framework of FRAMEWORKS) {
      const proxy = await startScript('./hello-servers.js', ['proxy', String(echoPort), framework]);
      try {
        const frameSent = new Promise<void>((resolve) => (arrived = resolve));
        let answered = false;
        const answers = Promise.all(
          Array.from({ length: 8 }, () =>
            fetch(`http://127.0.0.1:${proxy.port}/empty`).then(async (res) => {
              answered = true;
              return { status: res.status, body: await res.text() };
            }),
          ),
        );
        await frameSent;
        // Frames of requests read together may come in one write: wait for all 8 (8 bytes each).
        while (held.reduce((n, h) => n + h.chunk.length, 0) < 64) await new Promise<void>((resolve) => (arrived = resolve));
        assert.equal(answered, false, `${framework}: answered before its frame came back`);
        for (const { socket, chunk } of held) socket.write(chunk);
        held = [];
        for (const answer of await answers) assert.deepEqual(answer, { status: 200, body: '{}' }, framework);
      } finally {
        proxy.stop();
        await once(proxy.proc, 'exit');
      }
    }
  } finally {
    echo.close();
  }
});
