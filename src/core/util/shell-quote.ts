// POSIX shell quoting, for showing an argv as one command line (the `command` of a
// command_execution item, e.g. `/bin/bash -lc 'echo hi; exit 3'`).

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word so that a POSIX shell reads it back unchanged. */
export function shellQuote(word: string): string {
  if (word === "") return "''";
  if (SAFE_WORD.test(word)) return word;
  // Inside single quotes nothing is special except the quote itself: close, add an escaped
  // quote, reopen.
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes every word of an argv and joins them with spaces. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
