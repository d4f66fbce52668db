#!/usr/bin/env node
/** The faasbench command line: argument parsing only; each command lives with its role. */
import type { CommandModule } from 'yargs';
import { version } from './version.js';

/**
 * Each command's module is loaded only when it is the one asked for (all of
 * them for the top-level help): a gateway does not pay for the analysis, the
 * run or the caller at start-up.
 */
const COMMANDS: Record<string, () => Promise<CommandModule<any, any>>> = {
  run: async () => (await import('./run/command.js')).runCommand,
  gateway: async () => (await import('./gateway/command.js')).gatewayCommand,
  worker: async () => (await import('./worker/command.js')).workerCommand,
  caller: async () => (await import('./caller/command.js')).callerCommand,
  analyze: async () => (await import('./analysis/command.js')).analyzeCommand,
  scaler: async () => (await import('./scale/command.js')).scalerCommand,
};

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // Asked before yargs is loaded: the answer costs node's start-up alone.
  process.stdout.write(`${version}\n`);
} else {
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
  // A command named first is parsed as yargs's only, default command, unless
  // help is asked for: yargs renders a named command's whole help before it
  // runs the handler, which cost every process 5.6 MiB of memory and a tenth
  // of a second.
  const named = args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]) && !args.includes('--help') && !args.includes('-h') ? args[0] : null;
  let cli;
  if (named) {
    const command = await COMMANDS[named]!();
    cli = yargs(args.slice(1))
      .scriptName(`faasbench ${named}`)
      .command({ ...command, command: String(command.command).replace(/^\S+/, '$0'), aliases: [] });
  } else {
    cli = yargs(hideBin(process.argv))
      .scriptName('faasbench')
      .usage('$0 <command> [options]\n\nA FaaS latency testbed: where do the microseconds of a serverless function call go?');
    const names = args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]) ? [args[0]] : Object.keys(COMMANDS);
    for (const name of names) cli = cli.command(await COMMANDS[name]!());
  }
  await cli
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
}
