/**
 * Examples in every command's --help, as kubectl shows them: a comment line
 * saying what it does, then the command on a line of its own, so that each
 * fits 80 columns unbroken and pastes into a shell as it stands.
 */
import type { Argv } from 'yargs';

/** What an example does (empty: it goes on from the one before), and the command line ("$0" stands for the program's name). */
export type Example = [what: string, command: string];

export function withExamples<T>(y: Argv<T>, examples: readonly Example[]): Argv<T> {
  let b = y;
  // An empty description: yargs then gives the line the whole width instead of half of it.
  for (const [what, command] of examples) {
    if (what !== '') b = b.example(`# ${what}`, '');
    b = b.example(command, '');
  }
  return b;
}
