// A unified diff of what a verified patch does, for people reading the transcript.
import { createTwoFilesPatch, OMIT_HEADERS } from "diff";
import { type FileOp, originOf } from "./plan.ts";
import { oneSidedHunks, windowedHunks } from "./windowed-diff.ts";

/** Most lines shown per patch; the rest is summarised (a generated file can be huge). */
export const MAX_DIFF_LINES = 400;

/** `before` holds each op's original content (null for a file that did not exist). */
export function unifiedDiff(ops: readonly FileOp[], before: (absPath: string) => string | null): string {
  // Headers written here: the library quotes and octal-escapes non-ASCII names, as git does,
  // which a person reading the transcript should not have to decode.
  return diffText(ops, before, (op, old, now, from, to) =>
    op.kind === "update" ? updateHunks(op, old, now, from, to) : oneSidedHunks(op.kind, op.kind === "add" ? now : old, from, to),
  );
}

/** How one file's hunks are made from its old and new text and its header names. */
export type HunkMaker = (op: FileOp, old: string, now: string, from: string, to: string) => string;

/**
 * The diff text of `ops`, each file's hunks made by `hunks`: a `---`/`+++` header per file, at
 * most MAX_DIFF_LINES lines and then how many more there were.
 */
export function diffText(ops: readonly FileOp[], before: (absPath: string) => string | null, hunks: HunkMaker): string {
  const parts: string[] = [];
  for (const op of ops) {
    const old = op.kind === "add" ? "" : (before(op.path) ?? "");
    const now = op.kind === "delete" ? "" : op.newContent;
    const from = op.kind === "add" ? "/dev/null" : op.path;
    const to = op.kind === "delete" ? "/dev/null" : op.kind === "update" ? (op.movePath ?? op.path) : op.path;
    parts.push(`--- ${from}\n+++ ${to}\n${hunks(op, old, now, from, to)}`);
  }
  const lines = parts.join("").replace(/\n$/, "").split("\n");
  if (lines.length <= MAX_DIFF_LINES) return lines.join("\n");
  return [...lines.slice(0, MAX_DIFF_LINES), `... (${lines.length - MAX_DIFF_LINES} more diff lines)`].join("\n");
}

/**
 * An Update planned from this very text is diffed around its chunks only; one planned from
 * another (the file was changed earlier in the same patch) as whole texts.
 */
function updateHunks(op: FileOp, old: string, now: string, from: string, to: string): string {
  const origin = originOf(op);
  const windowed = origin !== undefined && origin.original === old ? windowedHunks(origin, now, from, to) : null;
  return windowed ?? wholeFileHunks(from, to, old, now);
}

/** The hunks of a diff of two whole texts, as the library makes them. */
export function wholeFileHunks(from: string, to: string, old: string, now: string): string {
  return createTwoFilesPatch(from, to, old, now, undefined, undefined, { context: 3, headerOptions: OMIT_HEADERS });
}
