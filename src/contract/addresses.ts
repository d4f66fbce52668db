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

