export { runCaller, type CallerResult } from './run-caller.js';
export { TargetUnreachableError } from './load-loop.js';
export { runSweep, type SweepOptions, type SweepRow } from './sweep.js';
export { CallerOptionsError, DEFAULTS, type CallerOptions, type CallerProgress } from './options.js';
export { formatCallerRecord, callerRecordFormatter, type CallerRecord } from '../trace/records.js';
export { formatSummary, formatSweep } from './summary.js';
export { callerCommand } from './command.js';
