/**
 * Test-only preload (NODE_OPTIONS=--import) that slows a gateway on purpose:
 * after each HTTP response is handed to the socket, its event loop is busy
 * for $FAASBENCH_TEST_BUSY_MS, so the caller's next request waits in the
 * gateway's socket meanwhile. The response itself goes out untouched.
 */
import { ServerResponse } from 'node:http';

const ms = Number(process.env.FAASBENCH_TEST_BUSY_MS ?? 0);
if (ms > 0) {
  const end = ServerResponse.prototype.end;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    const result = (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    setImmediate(() => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    });
    return result;
  } as typeof end;
}
