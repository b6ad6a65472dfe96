// The hunks of an Update's unified diff, built from where its chunks landed instead of from a
// diff of the whole file: only the lines around each change are handed to the library (the
// rest of the file is the same on both sides), and the hunks are cut as the library cuts those
// of a whole-file diff (3 lines of context, hunks merged when their context would meet). Also
// the hunks of an added or deleted file, which need no diff at all.
import { diffLines, formatPatch, OMIT_HEADERS, type StructuredPatchHunk } from "diff";
import { detectEol, type Edit } from "./apply.ts";
import type { UpdateOrigin } from "./plan.ts";

const CONTEXT = 3;
/**
 * Equal lines given to the library on each side of a change, beyond the change itself. A
 * change among repeated lines (a blank line added among blank lines) can be shown at several
 * places; with the repetition in view the library picks the place the whole-file diff picks.
 */
const MARGIN = 8;

/** Lines [oldStart, oldEnd) of the old text became [newStart, newEnd) of the new; between two spans both texts are equal. */
export interface Span {
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
}

const EQUAL = 0;
const REMOVED = 1;
const ADDED = 2;
/** `count` lines at `oldAt` (removed, equal) or `newAt` (added), as the library's change objects but by position. */
interface Part {
  type: typeof EQUAL | typeof REMOVED | typeof ADDED;
  oldAt: number;
  newAt: number;
  count: number;
}

/** Where each line of a text starts, found as far as asked. Line k includes its line ending. */
class LineIndex {
  private readonly starts = [0];
  constructor(
    readonly text: string,
    readonly count: number,
  ) {}

  start(k: number): number {
    if (k >= this.count) return this.text.length;
    const starts = this.starts;
    while (starts.length <= k) starts.push(this.text.indexOf("\n", starts[starts.length - 1]!) + 1);
    return starts[k]!;
  }

  line(k: number): string {
    return this.text.slice(this.start(k), this.start(k + 1));
  }
}

/**
 * The hunks (as createTwoFilesPatch formats them with OMIT_HEADERS) of `origin.original` →
 * `now`, where `now` is what applyChunks made of it. Null when the chunks' edits overlap (their
 * result is not a splice of each region): the caller then diffs the whole file.
 */
export function windowedHunks(origin: UpdateOrigin, now: string, from: string, to: string): string | null {
  const found = windowsFor(origin, now);
  if (found === null) return null;
  const { windows, oldLines, newLines } = found;
  const hunks = hunksOf(partsOf(windows, oldLines, newLines), oldLines, newLines);
  return formatPatch({ oldFileName: from, newFileName: to, oldHeader: undefined, newHeader: undefined, hunks }, OMIT_HEADERS);
}

/**
 * The hunks of a file added (every line of `text` added) or deleted (every line removed):
 * nothing to align, so no diff is run; cut and formatted as the library does.
 */
export function oneSidedHunks(kind: "add" | "delete", text: string, from: string, to: string): string {
  let count = text.length > 0 && !text.endsWith("\n") ? 1 : 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  const lines = new LineIndex(text, count);
  const parts: Part[] = count === 0 ? [] : [{ type: kind === "add" ? ADDED : REMOVED, oldAt: 0, newAt: 0, count }];
  const hunks = hunksOf(parts, lines, lines);
  return formatPatch({ oldFileName: from, newFileName: to, oldHeader: undefined, newHeader: undefined, hunks }, OMIT_HEADERS);
}

/** The line ranges of old and new text that windowedHunks hands to the library (null: it would not). */
export function diffWindows(origin: UpdateOrigin, now: string): Span[] | null {
  return windowsFor(origin, now)?.windows ?? null;
}

function windowsFor(origin: UpdateOrigin, now: string): { windows: Span[]; oldLines: LineIndex; newLines: LineIndex } | null {
  const { original: old, lineCount, edits } = origin;
  const spans = spansOf(old, lineCount, edits);
  if (spans === null) return null;
  const newCount = lineCount + edits.reduce((n, e) => n + e.newLines.length - e.oldLength, 0);
  const oldLines = new LineIndex(old, lineCount);
  const newLines = new LineIndex(now, newCount);
  return { windows: windowsOf(spans, oldLines), oldLines, newLines };
}

/**
 * The regions that differ: each edit, and the lines applyChunks rewrote without an edit (the
 * last line when the file did not end with a line ending, and in a CRLF file every line that
 * ended with LF alone). Null when edits overlap.
 */
function spansOf(old: string, lineCount: number, edits: readonly Edit[]): Span[] | null {
  const rewritten: number[] = [];
  if (detectEol(old) === "\r\n") {
    let line = 0;
    for (let at = old.indexOf("\n"); at >= 0; at = old.indexOf("\n", at + 1), line++) {
      if (old.charCodeAt(at - 1) !== 13) rewritten.push(line);
    }
  }
  if (lineCount > 0 && !old.endsWith("\n")) rewritten.push(lineCount - 1);

  const spans: Span[] = [];
  let shift = 0; // new line number - old line number, after the spans so far
  let end = 0; // old end of the last span
  let r = 0;
  for (let e = 0; e <= edits.length; e++) {
    const edit = edits[e];
    // Rewritten lines before this edit (an edit at a line goes first: it inserts before it or covers it).
    for (; r < rewritten.length && (edit === undefined || rewritten[r]! < edit.start); r++) {
      const line = rewritten[r]!;
      if (line < end) continue; // inside an edit
      spans.push({ oldStart: line, oldEnd: line + 1, newStart: line + shift, newEnd: line + 1 + shift });
      end = line + 1;
    }
    if (edit === undefined) break;
    if (edit.start < end) return null;
    const newLength = edit.newLines.length;
    const newStart = edit.start + shift;
    spans.push({ oldStart: edit.start, oldEnd: edit.start + edit.oldLength, newStart, newEnd: newStart + newLength });
    shift += newLength - edit.oldLength;
    end = edit.start + edit.oldLength;
  }
  return spans;
}

/**
 * Each span with MARGIN equal lines before it and at least MARGIN after it, windows that meet
 * merged. A window that ends inside a repetition (its next line is one of its last MARGIN
 * lines: a run of blank lines, of `}`, of a repeated block) goes on to the repetition's end,
 * where the whole-file diff would slide a change made inside it.
 */
function windowsOf(spans: readonly Span[], oldLines: LineIndex): Span[] {
  const lineCount = oldLines.count;
  const windows: Span[] = [];
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const before = Math.min(MARGIN, s.oldStart);
    let oldEnd = Math.min(s.oldEnd + MARGIN, lineCount);
    // Once it meets the next span's window the two merge, and that span goes on from its end:
    // stopping there gives the same window and scans each line once.
    const next = spans[i + 1];
    const stop = next === undefined ? lineCount : Math.max(oldEnd, next.oldStart - Math.min(MARGIN, next.oldStart));
    while (oldEnd < stop && repeatsBefore(oldLines, oldEnd)) oldEnd++;
    const last = windows[windows.length - 1];
    if (last !== undefined && s.oldStart - before <= last.oldEnd) {
      // Past the latest span, old and new lines pair up again with that span's shift.
      last.oldEnd = Math.max(last.oldEnd, oldEnd);
      last.newEnd = s.newEnd + (last.oldEnd - s.oldEnd);
    } else {
      windows.push({ oldStart: s.oldStart - before, oldEnd, newStart: s.newStart - before, newEnd: s.newEnd + (oldEnd - s.oldEnd) });
    }
  }
  return windows;
}

/** Line `k` equals one of the MARGIN lines before it. */
function repeatsBefore(lines: LineIndex, k: number): boolean {
  const line = lines.line(k);
  for (let j = Math.max(0, k - MARGIN); j < k; j++) if (lines.line(j) === line) return true;
  return false;
}

/** The whole diff as the library's change list would have it: equal runs between windows, each window diffed by the library. */
function partsOf(windows: readonly Span[], oldLines: LineIndex, newLines: LineIndex): Part[] {
  const parts: Part[] = [];
  const add = (type: Part["type"], oldAt: number, newAt: number, count: number) => {
    if (count === 0) return;
    const last = parts[parts.length - 1];
    if (last !== undefined && last.type === EQUAL && type === EQUAL) last.count += count;
    else parts.push({ type, oldAt, newAt, count });
  };
  let oldAt = 0;
  let newAt = 0;
  for (const w of windows) {
    add(EQUAL, oldAt, newAt, w.oldStart - oldAt);
    oldAt = w.oldStart;
    newAt = w.newStart;
    const a = oldLines.text.slice(oldLines.start(w.oldStart), oldLines.start(w.oldEnd));
    const b = newLines.text.slice(newLines.start(w.newStart), newLines.start(w.newEnd));
    for (const change of diffLines(a, b)) {
      const count = change.count;
      if (change.added) {
        add(ADDED, oldAt, newAt, count);
        newAt += count;
      } else if (change.removed) {
        add(REMOVED, oldAt, newAt, count);
        oldAt += count;
      } else {
        add(EQUAL, oldAt, newAt, count);
        oldAt += count;
        newAt += count;
      }
    }
  }
  add(EQUAL, oldAt, newAt, oldLines.count - oldAt);
  return parts;
}

/** The hunks of a change list, cut exactly as the library's structuredPatch cuts them. */
function hunksOf(parts: readonly Part[], oldLines: LineIndex, newLines: LineIndex): StructuredPatchHunk[] {
  const hunks: StructuredPatchHunk[] = [];
  let lines: string[] = [];
  const push = (prefix: string, line: string) => {
    if (line.endsWith("\n")) lines.push(prefix + line.slice(0, -1));
    else lines.push(prefix + line, "\\ No newline at end of file");
  };
  const context = (p: Part, from: number, to: number) => {
    for (let k = from; k < to; k++) push(" ", oldLines.line(p.oldAt + k));
  };
  let oldRangeStart = 0; // 1-based; 0 while no hunk is open
  let newRangeStart = 0;
  let oldLine = 1;
  let newLine = 1;
  const close = (contextSize: number) => {
    hunks.push({
      oldStart: oldRangeStart,
      oldLines: oldLine - oldRangeStart + contextSize,
      newStart: newRangeStart,
      newLines: newLine - newRangeStart + contextSize,
      lines,
    });
    oldRangeStart = 0;
    newRangeStart = 0;
    lines = [];
  };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.type !== EQUAL) {
      if (!oldRangeStart) {
        oldRangeStart = oldLine;
        newRangeStart = newLine;
        const prev = parts[i - 1];
        if (prev) {
          const n = Math.min(CONTEXT, prev.count);
          context(prev, prev.count - n, prev.count);
          oldRangeStart -= n;
          newRangeStart -= n;
        }
      }
      if (p.type === ADDED) {
        for (let k = 0; k < p.count; k++) push("+", newLines.line(p.newAt + k));
        newLine += p.count;
      } else {
        for (let k = 0; k < p.count; k++) push("-", oldLines.line(p.oldAt + k));
        oldLine += p.count;
      }
    } else {
      if (oldRangeStart) {
        if (p.count <= CONTEXT * 2 && i < parts.length - 1) {
          context(p, 0, p.count);
        } else {
          const n = Math.min(p.count, CONTEXT);
          context(p, 0, n);
          close(n);
        }
      }
      oldLine += p.count;
      newLine += p.count;
    }
  }
  if (oldRangeStart) close(0);
  return hunks;
}
