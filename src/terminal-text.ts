/**
 * Text from records or from the file system (a framework name, a host, a
 * file name) on its way to a terminal: every control character is shown as
 * an escape instead of acting. Records may come from machines the analyst
 * does not control; an ESC in a framework name would otherwise recolour the
 * terminal, move the cursor or fake a line of output (CVE-2021-25743 is the
 * same flaw in kubectl).
 *
 * Neutralised: C0 controls and DEL (\x00–\x1f, \x7f: ESC, CR, BEL, newline,
 * tab), C1 controls (\x80–\x9f: a lone \x9b is CSI on some terminals), and
 * the Unicode controls that reorder or hide text (bidirectional overrides
 * and isolates, U+061C, U+200E/F, U+202A–E, U+2066–9; line and paragraph
 * separators U+2028/9). Each becomes \xNN or \uNNNN, so the text stays
 * readable and one line.
 */
const CONTROLS = '\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';
const ANY = new RegExp(`[${CONTROLS}]`);
const EVERY = new RegExp(`[${CONTROLS}]`, 'g');

export function printable(text: string): string {
  return ANY.test(text) ? text.replace(EVERY, escapeOf) : text;
}

function escapeOf(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
