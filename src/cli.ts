#!/usr/bin/env node
/** The faasbench command line: argument parsing only; each command lives with its role. */
import type { CommandModule } from 'yargs';
import { withExamples, type Example } from './command-line/examples.js';
import { closest, describeUnknownFlags, unknownFlags, type KnownOptions } from './command-line/did-you-mean.js';
import { EXIT_RUN_FAILED } from './usage-error.js';
import { printable } from './terminal-text.js';

/** yargs' messages may span lines: each line shown, its controls escaped. */
const printableLines = (text: string): string => text.split('\n').map(printable).join('\n');
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

const EXAMPLES: Example[] = [
  ['a whole experiment on this machine, then its report', '$0 run --quick'],
  ['the three roles by hand, in three terminals, each keeping records', '$0 worker --log worker.ndjson'],
  ['', '$0 gateway --framework fastify --log gateway.ndjson'],
  ['', '$0 caller --out caller.ndjson'],
  ['then the report of those records', '$0 analyze .'],
];

/** Help fits the terminal, and 80 columns when piped (no terminal to measure). */
const helpWidth = () => Math.min(80, process.stdout.columns ?? 80);

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // Asked before yargs is loaded: the answer costs node's start-up alone.
  process.stdout.write(`${version}\n`);
} else {
  const [{ default: yargs }, { hideBin }] = await Promise.all([import('yargs'), import('yargs/helpers')]);
  const first = args[0];
  const asksHelp = args.includes('--help') || args.includes('-h');
  // A command named first is parsed as yargs's only, default command, unless
  // help is asked for: yargs renders a named command's whole help before it
  // runs the handler, which cost every process 5.6 MiB of memory and a tenth
  // of a second.
  const named = first !== undefined && Object.hasOwn(COMMANDS, first) && !asksHelp ? first : null;
  let cli;
  let command: string | null = named;
  if (named) {
    const module = await COMMANDS[named]!();
    cli = yargs(args.slice(1))
      .scriptName(`faasbench ${named}`)
      .command({ ...module, command: String(module.command).replace(/^\S+/, '$0'), aliases: [] });
  } else {
    cli = yargs(hideBin(process.argv))
      .scriptName('faasbench')
      .usage('$0 <command> [options]\n\nA FaaS latency testbed: where do the microseconds of a serverless function call go?');
    const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
    const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
    for (const module of modules) cli = cli.command(module);
    if (first !== undefined && !first.startsWith('-')) {
      // A command or one of its aliases (rpc-worker), else a mistyped one.
      const known = modules.flatMap((m) => [String(m.command).split(' ')[0]!, ...[m.aliases ?? []].flat()]);
      if (known.includes(first)) command = first;
      else {
        const guess = closest(first, names);
        process.stderr.write(`faasbench: Unknown command: ${printable(first)}.${guess ? ` Did you mean ${guess}?` : ''}\nRun 'faasbench --help' for the commands.\n`);
        process.exit(2);
      }
    }
    if (command === null) cli = withExamples(cli, EXAMPLES);
  }
  const helpOf = command === null ? 'faasbench' : `faasbench ${command}`;
  if (args.length === 0) {
    // `faasbench` alone: what it can do, as --help shows it.
    cli.wrap(helpWidth()).showHelp('log');
  } else {
    await cli
      .demandCommand(1, 'Name a command.')
      .strict()
      .version(version)
      .help()
      .alias('help', 'h')
      .wrap(helpWidth())
      .fail((message, err) => {
        // A bad flag or value, or a UsageError from a handler: say what is wrong,
        // not a stack trace. Anything else is a bug and keeps its stack.
        if (err?.name === 'RunFailure') {
          // Not the command line's fault: no pointer to --help.
          process.stderr.write(`${helpOf}: ${printableLines(err.message)}\n`);
          process.exit(EXIT_RUN_FAILED);
        }
        if (err && err.name !== 'UsageError' && !message) throw err;
        // A mistyped flag first: it is also why yargs may find a required one missing.
        const unknown = unknownFlags(command === null ? args : args.slice(1), (cli as unknown as { getOptions(): KnownOptions }).getOptions());
        const what = unknown.length > 0 ? describeUnknownFlags(unknown) : (message ?? err?.message);
        process.stderr.write(`faasbench: ${printableLines(what ?? '')}\nRun '${helpOf} --help' for usage.\n`);
        process.exit(2);
      })
      .parseAsync();
  }
}
