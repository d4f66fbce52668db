import type { Logger } from './log.js';
import { UsageError } from './commands.js';

/** Set by a parent (faasbench run, the tests) that holds our stdin open: when it closes, the parent is gone. */
export const EXIT_WITH_PARENT_ENV = 'FAASBENCH_EXIT_WITH_PARENT';

/**
 * Keeps a server role running until SIGINT or SIGTERM, then closes it (which
 * flushes its records) and exits. A second signal exits at once. Started by a
 * parent that sets FAASBENCH_EXIT_WITH_PARENT=1, it also stops when its stdin
 * closes: a parent killed with SIGKILL cannot stop its children, but the
 * kernel closes the pipe, so no server outlives the run that started it.
 */
export function closeOnSignal(close: () => Promise<void>, logger: Logger): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    close().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.env[EXIT_WITH_PARENT_ENV] === '1') {
    process.stdin.once('close', () => stop('SIGHUP'));
    process.stdin.resume();
  }
}

/**
 * Starts a role; a failure the user's flags caused (address in use, unknown
 * host, a record file that cannot be opened) becomes a UsageError: one line
 * and exit 2. Node's system errors carry `syscall`, which tells them from bugs.
 */
export async function startOrExplain<T>(role: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.syscall === 'string') throw new UsageError(`cannot start the ${role}: ${e.message}`);
    throw err;
  }
}
