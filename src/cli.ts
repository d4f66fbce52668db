#!/usr/bin/env node
/** The faasbench command line: argument parsing only; each command lives with its role. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { analyzeCommand } from './analysis/command.js';
import { callerCommand } from './caller/command.js';
import { gatewayCommand } from './gateway/command.js';
import { runCommand } from './run/command.js';
import { workerCommand } from './worker/command.js';
import { version } from './version.js';

await yargs(hideBin(process.argv))
  .scriptName('faasbench')
  .usage('$0 <command> [options]\n\nA FaaS latency testbed: where do the microseconds of a serverless function call go?')
  .command(runCommand)
  .command(gatewayCommand)
  .command(workerCommand)
  .command(callerCommand)
  .command(analyzeCommand)
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .version(version)
  .help()
  .alias('help', 'h')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, err) => {
    // A bad flag or value, or a UsageError from a handler: say what is wrong,
    // not a stack trace. Anything else is a bug and keeps its stack.
    if (err && err.name !== 'UsageError' && !message) throw err;
    process.stderr.write(`faasbench: ${message ?? err?.message}\nRun 'faasbench --help' for usage.\n`);
    process.exit(2);
  })
  .parseAsync();
