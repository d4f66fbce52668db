/** The defaults that let the role commands find each other with no address flags. */

/**
 * `faasbench worker`, then `faasbench gateway --framework F`, then
 * `faasbench caller`, each with no address flags, meet on these.
 */
export const LOCAL_HOST = '127.0.0.1';
export const WORKER_PORT = 7070;
export const GATEWAY_PORT = 8080;
export const DEFAULT_WORKER = `${LOCAL_HOST}:${WORKER_PORT}`;
export const DEFAULT_CALLER_URL = `http://${LOCAL_HOST}:${GATEWAY_PORT}/empty`;


/** Every address `host` stands for is a loopback address (a name is resolved; a failure to resolve throws). */
export async function isLoopback(host: string): Promise<boolean> {
  const { lookup } = await import('node:dns/promises');
  const { isIP } = await import('node:net');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  return addresses.every((a) => /^(127\.|::ffff:127\.)/.test(a) || a === '::1');
}

/** A loopback port free now, for a role that must be told another's port before either starts. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCAL_HOST, resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
