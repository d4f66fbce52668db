import { pino, type Logger } from 'pino';

/**
 * Operational logs (startup, errors) go to stderr through pino, apart from the
 * per-request records. Level from FAASBENCH_LOG_LEVEL (default info).
 */
export function createLogger(role: string): Logger {
  return pino(
    { name: `faasbench-${role}`, level: process.env.FAASBENCH_LOG_LEVEL ?? 'info' },
    pino.destination({ dest: 2, sync: true }),
  );
}

export type { Logger };
