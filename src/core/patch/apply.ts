import { PatchError } from "./patch-error.ts";
import { seekSequence } from "./seek.ts";
import type { UpdateChunk } from "./types.ts";

/** Where one chunk landed: `oldLength` lines of the original from line `start` (0-based) became `newLines`. */
export interface Edit {
  start: number;
  oldLength: number;
  newLines: readonly string[];
}

/** What applying an Update hunk's chunks did. */
export interface AppliedChunks {
  /** The new content of the file. */
  text: string;
  /** Lines of the original (a final line ending does not start another line). */
  lineCount: number;
  /** Where each chunk landed in the original, sorted by `start` (ties in chunk order). */
  edits: Edit[];
}

/**
 * The new content of a file after one Update hunk's chunks. Pure: `path` is only used in
 * error messages. The file's line ending (CRLF when its first line ends in CRLF) is kept for
 * every line, and a non-empty result always ends with a line ending. Unlike the reference, a
 * trailing blank line is never swallowed (the reference turns "a\nb\n\n" into "a\nB\n").
 * Throws PatchError.
 */
export function applyHunksToText(original: string, chunks: readonly UpdateChunk[], path: string): string {
  return applyChunks(original, chunks, path).text;
}

/** applyHunksToText, also saying where each chunk landed (the diff shown to people is built from that). */
export function applyChunks(original: string, chunks: readonly UpdateChunk[], path: string): AppliedChunks {
  const eol = detectEol(original);
  const lines = original.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (eol === "\r\n") for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith("\r")) lines[i] = lines[i]!.slice(0, -1);
  const edits = computeEdits(lines, chunks, path);
  const lineCount = lines.length;
  const result = applyEdits(lines, edits);
  return { text: result.length === 0 ? "" : result.join(eol) + eol, lineCount, edits };
}

/** "\r\n" when the first line break of the text is CRLF, else "\n". */
export function detectEol(text: string): "\n" | "\r\n" {
  const i = text.indexOf("\n");
  return i > 0 && text[i - 1] === "\r" ? "\r\n" : "\n";
}

function computeEdits(lines: string[], chunks: readonly UpdateChunk[], path: string): Edit[] {
  const out: Edit[] = [];
  let cursor = 0;
  for (const chunk of chunks) {
    if (chunk.changeContext !== null) {
      const idx = seekSequence(lines, [chunk.changeContext], cursor, false);
      if (idx === null) throw new PatchError(`Failed to find context '${chunk.changeContext}' in ${path}`);
      cursor = idx + 1;
    }
    if (chunk.oldLines.length === 0) {
      const at = lines.length > 0 && lines[lines.length - 1] === "" ? lines.length - 1 : lines.length;
      out.push({ start: at, oldLength: 0, newLines: chunk.newLines });
      continue;
    }
    let pattern = chunk.oldLines;
    let newLines = chunk.newLines;
    let found = seekSequence(lines, pattern, cursor, chunk.isEndOfFile);
    if (found === null && pattern[pattern.length - 1] === "") {
      pattern = pattern.slice(0, -1);
      if (newLines[newLines.length - 1] === "") newLines = newLines.slice(0, -1);
      found = seekSequence(lines, pattern, cursor, chunk.isEndOfFile);
    }
    if (found === null) {
      throw new PatchError(`Failed to find expected lines in ${path}:\n${chunk.oldLines.join("\n")}`);
    }
    out.push({ start: found, oldLength: pattern.length, newLines });
    cursor = found + pattern.length;
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Apply bottom-up so earlier indices stay valid. */
function applyEdits(lines: string[], edits: readonly Edit[]): string[] {
  const result = lines.slice();
  for (let i = edits.length - 1; i >= 0; i--) {
    const { start, oldLength, newLines } = edits[i]!;
    result.splice(start, Math.min(oldLength, Math.max(0, result.length - start)), ...newLines);
  }
  return result;
}
