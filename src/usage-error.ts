/** For command handlers: a user error becomes a message and exit code 2, not a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** For command handlers: a run that could not measure (nothing answers at the target) becomes one line and exit 1. */
export class RunFailure extends Error {
  override name = 'RunFailure';
}

/** The exit code of a run that measured nothing usable (docs/commands.md, "Exit codes"). */
export const EXIT_RUN_FAILED = 1;
