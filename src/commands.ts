/** What the role commands share: the defaults that let them find each other, and the user-error type. */

/**
 * `faasbench worker`, then `faasbench gateway --framework F`, then
 * `faasbench caller`, each with no address flags, meet on these.
 */
export const LOCAL_HOST = '127.0.0.1';
export const WORKER_PORT = 7070;
export const GATEWAY_PORT = 8080;
export const DEFAULT_WORKER = `${LOCAL_HOST}:${WORKER_PORT}`;
export const DEFAULT_CALLER_URL = `http://${LOCAL_HOST}:${GATEWAY_PORT}/empty`;

/** For command handlers: a user error becomes a message and exit code 2, not a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
