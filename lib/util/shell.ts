/**
 * Shell quoting for the commands facesets prints and records (reports' "Re-running", run records), so a path with
 * a space or a quote pastes back into a POSIX shell as one argument.
 */

/** Words that never need quoting in sh, bash or zsh (`=` only after the first character; `~` never). */
const PLAIN = /^[A-Za-z0-9_\/.,:+@%-][A-Za-z0-9_\/.,:+@%=-]*$/;

/** `arg` as one POSIX shell word: plain when safe, else single-quoted (a `'` inside becomes `'\''`). */
export function shellQuote(arg: string): string {
  if (arg !== "" && PLAIN.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line from its words, each quoted as needed. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
