import type { Logger } from './log.js';

/**
 * Keeps a server role running until SIGINT or SIGTERM, then closes it (which
 * flushes its records) and exits. A second signal exits at once.
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
}

/** For command handlers: a user error becomes a message and exit code 2, not a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
