/** For command handlers: a user error becomes a message and exit code 2, not a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
