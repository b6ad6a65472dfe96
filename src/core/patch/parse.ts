import { PatchError } from "./patch-error.ts";
import type { Hunk, UpdateChunk } from "./types.ts";

const BEGIN = "*** Begin Patch";
const END = "*** End Patch";
const ADD = "*** Add File: ";
const DELETE = "*** Delete File: ";
const UPDATE = "*** Update File: ";
const MOVE = "*** Move to: ";
const EOF_MARKER = "*** End of File";
const CONTEXT = "@@ ";
const EMPTY_CONTEXT = "@@";
const HEREDOC_OPENERS = ["<<EOF", "<<'EOF'", '<<"EOF"'];
const NO_LINES = "Update hunk does not contain any lines";

/** Parse an apply_patch text (lenient mode: a heredoc wrapper is tolerated). Throws PatchError. */
export function parsePatch(text: string): Hunk[] {
  const trimmed = text.trim();
  const all = trimmed === "" ? [] : trimmed.split(/\r?\n/);
  const lines = checkBoundaries(all);
  const hunks: Hunk[] = [];
  let rest = lines.slice(1, lines.length - 1);
  let lineNumber = 2;
  while (rest.length > 0) {
    const [hunk, used] = parseOneHunk(rest, lineNumber);
    hunks.push(hunk);
    lineNumber += used;
    rest = rest.slice(used);
  }
  return hunks;
}

function checkBoundaries(lines: string[]): string[] {
  const strict = checkStrict(lines);
  if (strict === null) return lines;
  const first = lines[0];
  const last = lines[lines.length - 1];
  if (lines.length >= 4 && HEREDOC_OPENERS.includes(first!) && last!.endsWith("EOF")) {
    const inner = lines.slice(1, -1);
    const innerError = checkStrict(inner);
    if (innerError !== null) throw new PatchError(innerError);
    return inner;
  }
  throw new PatchError(strict);
}

/** null when the first and last lines are the Begin/End markers, else the error text. */
function checkStrict(lines: string[]): string | null {
  const first = lines[0]?.trim();
  const last = lines[lines.length - 1]?.trim();
  if (first === BEGIN && last === END && lines.length >= 2) return null;
  if (first !== undefined && first !== BEGIN) return "invalid patch: The first line of the patch must be '*** Begin Patch'";
  return "invalid patch: The last line of the patch must be '*** End Patch'";
}

function hunkError(message: string, lineNumber: number): PatchError {
  return new PatchError(`invalid hunk at line ${lineNumber}, ${message}`);
}

function parseOneHunk(lines: string[], lineNumber: number): [Hunk, number] {
  const header = lines[0]!.trim();
  if (header.startsWith(ADD)) {
    let contents = "";
    let used = 1;
    for (const line of lines.slice(1)) {
      if (!line.startsWith("+")) break;
      contents += `${line.slice(1)}\n`;
      used++;
    }
    return [{ kind: "add", path: header.slice(ADD.length), contents }, used];
  }
  if (header.startsWith(DELETE)) return [{ kind: "delete", path: header.slice(DELETE.length) }, 1];
  if (header.startsWith(UPDATE)) {
    const path = header.slice(UPDATE.length);
    let used = 1;
    let movePath: string | null = null;
    if (lines[1]?.startsWith(MOVE)) {
      movePath = lines[1].slice(MOVE.length);
      used++;
    }
    const chunks: UpdateChunk[] = [];
    while (used < lines.length) {
      const line = lines[used]!;
      if (line.trim() === "") {
        used++;
        continue;
      }
      if (line.startsWith("***")) break;
      const [chunk, n] = parseChunk(lines.slice(used), lineNumber + used, chunks.length === 0);
      chunks.push(chunk);
      used += n;
    }
    if (chunks.length === 0) throw hunkError(`Update file hunk for path '${path}' is empty`, lineNumber);
    return [{ kind: "update", path, movePath, chunks }, used];
  }
  throw hunkError(
    `'${header}' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'`,
    lineNumber,
  );
}

function parseChunk(lines: string[], lineNumber: number, allowMissingContext: boolean): [UpdateChunk, number] {
  const first = lines[0]!;
  let changeContext: string | null = null;
  let start = 1;
  if (first === EMPTY_CONTEXT) changeContext = null;
  else if (first.startsWith(CONTEXT)) changeContext = first.slice(CONTEXT.length);
  else if (allowMissingContext) start = 0;
  else throw hunkError(`Expected update hunk to start with a @@ context marker, got: '${first}'`, lineNumber);
  if (start >= lines.length) throw hunkError(NO_LINES, lineNumber + 1);

  const chunk: UpdateChunk = { changeContext, oldLines: [], newLines: [], isEndOfFile: false };
  let parsed = 0;
  for (const line of lines.slice(start)) {
    if (line === EOF_MARKER) {
      if (parsed === 0) throw hunkError(NO_LINES, lineNumber + 1);
      chunk.isEndOfFile = true;
      parsed++;
      break;
    }
    const tag = line[0];
    if (tag === undefined) {
      chunk.oldLines.push("");
      chunk.newLines.push("");
    } else if (tag === " ") {
      chunk.oldLines.push(line.slice(1));
      chunk.newLines.push(line.slice(1));
    } else if (tag === "+") {
      chunk.newLines.push(line.slice(1));
    } else if (tag === "-") {
      chunk.oldLines.push(line.slice(1));
    } else {
      if (parsed === 0) {
        throw hunkError(
          `Unexpected line found in update hunk: '${line}'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)`,
          lineNumber + 1,
        );
      }
      break;
    }
    parsed++;
  }
  return [chunk, parsed + start];
}
