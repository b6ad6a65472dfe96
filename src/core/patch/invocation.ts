// Models often send a patch as a shell command (`apply_patch <<'EOF' ... EOF`) instead of
// calling the tool. Such a command is recognised here and handled as the tool, never run.

export interface PatchInvocation {
  /** The patch text (the heredoc body or the single argument). */
  patch: string;
  /** A leading `cd DIR &&`, as written (relative to the command's workdir). */
  cd?: string;
}

const NAMES = "(?:apply_patch|applypatch)";
const WORD = `(?:'[^']*'|"(?:[^"\\\\]|\\\\.)*"|[^\\s'"&;|<>]+)`;
const CD = `(?:cd\\s+(${WORD})\\s*&&\\s*)?`;
// apply_patch <<'EOF'\n...\nEOF   (delimiter quoted or not, optional space after <<)
const HEREDOC = new RegExp(`^\\s*${CD}${NAMES}\\s*<<-?\\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\\2[ \\t]*\\n([\\s\\S]*?)\\n\\3[ \\t]*\\n?\\s*$`);
// apply_patch '*** Begin Patch ...'   (the patch as one quoted argument)
const ARGUMENT = new RegExp(`^\\s*${CD}${NAMES}\\s+('[^']*'|"(?:[^"\\\\]|\\\\.)*")\\s*$`);

/** The patch a shell command applies, or null when the command is anything else. */
export function parsePatchInvocation(cmd: string): PatchInvocation | null {
  const heredoc = HEREDOC.exec(cmd);
  if (heredoc) return withCd(heredoc[4]!, heredoc[1]);
  const arg = ARGUMENT.exec(cmd);
  if (arg) {
    const patch = unquote(arg[2]!);
    return patch.trimStart().startsWith("*** Begin Patch") ? withCd(patch, arg[1]) : null;
  }
  return null;
}

function withCd(patch: string, cd: string | undefined): PatchInvocation {
  return cd === undefined ? { patch } : { patch, cd: unquote(cd) };
}

function unquote(word: string): string {
  if (word.startsWith("'")) return word.slice(1, -1);
  if (word.startsWith('"')) return word.slice(1, -1).replace(/\\(["\\$`])/g, "$1");
  return word;
}
