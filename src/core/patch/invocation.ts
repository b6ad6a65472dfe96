// Models often send a patch as a shell command (`apply_patch <<'EOF' ... EOF`) instead of
// calling the tool. Such a command is recognised here and handled as the tool, never run.
import { once } from "../util/once.ts";

export interface PatchInvocation {
  /** The patch text (the heredoc body or the single argument). */
  patch: string;
  /** A leading `cd DIR &&`, as written (relative to the command's workdir). */
  cd?: string;
}

const NAMES = "(?:apply_patch|applypatch)";
const WORD = `(?:'[^']*'|"(?:[^"\\\\]|\\\\.)*"|[^\\s'"&;|<>]+)`;
const CD = `(?:cd\\s+(${WORD})\\s*&&\\s*)?`;
// apply_patch <<'EOF'   (delimiter quoted or not, optional space after <<); the body follows
const HEREDOC_HEAD = once(() => new RegExp(`^\\s*${CD}${NAMES}\\s*<<(-?)\\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\\3[ \\t]*\\n`));
// apply_patch '*** Begin Patch ...'   (the patch as one quoted argument)
const ARGUMENT = once(() => new RegExp(`^\\s*${CD}${NAMES}\\s+('[^']*'|"(?:[^"\\\\]|\\\\.)*")\\s*$`));

/** The patch a shell command applies, or null when the command is anything else. */
export function parsePatchInvocation(cmd: string): PatchInvocation | null {
  const head = HEREDOC_HEAD().exec(cmd);
  if (head) {
    // As in a shell, the body ends at the first line that is exactly the delimiter; anything
    // after it other than blank space means this is a longer script, not just a patch.
    // `<<-` strips leading tabs from the body and the delimiter line.
    const strip = head[2] === "-" ? (l: string) => l.replace(/^\t+/, "") : (l: string) => l;
    const lines = cmd.slice(head[0].length).split("\n").map(strip);
    const end = lines.indexOf(head[4]!);
    if (end < 0 || lines.slice(end + 1).join("\n").trim() !== "") return null;
    return withCd(lines.slice(0, end).join("\n"), head[1]);
  }
  const arg = ARGUMENT().exec(cmd);
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
