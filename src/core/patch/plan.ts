import { applyChunks, type AppliedChunks } from "./apply.ts";
import { PatchError } from "./patch-error.ts";
import type { Hunk } from "./types.ts";

/** One file write the caller performs after the whole patch has been verified. */
export type FileOp =
  | { kind: "add"; path: string; patchPath: string; newContent: string }
  | { kind: "delete"; path: string; patchPath: string }
  | {
      kind: "update";
      path: string;
      patchPath: string;
      /** Absolute destination of `*** Move to:`; the source is removed. */
      movePath?: string;
      patchMovePath?: string;
      newContent: string;
    };

/** How an Update op's new content was made: the text it read and where each chunk landed in it. */
export interface UpdateOrigin extends Omit<AppliedChunks, "text"> {
  original: string;
}

// Kept beside the ops rather than in them: an op stays the plain record of a write.
const origins = new WeakMap<FileOp, UpdateOrigin>();

/** Where an Update op made by planPatch came from; undefined for other ops. */
export function originOf(op: FileOp): UpdateOrigin | undefined {
  return origins.get(op);
}

/** Contents of a regular file at an absolute path, or null when there is none. */
export type ReadFile = (absPath: string) => string | null;
export type ResolvePath = (cwd: string, path: string) => string;

/**
 * Dry-run every hunk in memory, in order (a later hunk sees what earlier ones did), and
 * return the file operations to perform. Throws the first PatchError, before anything is
 * written, so a failing patch never half-applies. `path`s in ops are absolute.
 */
export function planPatch(hunks: readonly Hunk[], readFile: ReadFile, cwd: string, resolve: ResolvePath): FileOp[] {
  if (hunks.length === 0) throw new PatchError("No files were modified.");
  const overlay = new Map<string, string | null>();
  const read = (abs: string) => (overlay.has(abs) ? overlay.get(abs)! : readFile(abs));
  const ops: FileOp[] = [];
  for (const hunk of hunks) {
    const path = resolve(cwd, hunk.path);
    if (hunk.kind === "add") {
      overlay.set(path, hunk.contents);
      ops.push({ kind: "add", path, patchPath: hunk.path, newContent: hunk.contents });
    } else if (hunk.kind === "delete") {
      if (read(path) === null) throw new PatchError(`Failed to read ${path}: No such file or directory (os error 2)`);
      overlay.set(path, null);
      ops.push({ kind: "delete", path, patchPath: hunk.path });
    } else {
      const original = read(path);
      if (original === null) {
        throw new PatchError(`Failed to read file to update ${path}: No such file or directory (os error 2)`);
      }
      const { text: newContent, lineCount, edits } = applyChunks(original, hunk.chunks, path);
      let op: FileOp;
      if (hunk.movePath === null) {
        overlay.set(path, newContent);
        op = { kind: "update", path, patchPath: hunk.path, newContent };
      } else {
        const movePath = resolve(cwd, hunk.movePath);
        overlay.set(path, null);
        overlay.set(movePath, newContent);
        op = { kind: "update", path, patchPath: hunk.path, movePath, patchMovePath: hunk.movePath, newContent };
      }
      origins.set(op, { original, lineCount, edits });
      ops.push(op);
    }
  }
  return ops;
}
