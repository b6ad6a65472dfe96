// The human-mode diff of an Update is built from where its chunks landed, diffing only a window
// around each change. Checked against the diff of the whole files that it replaces (kept here
// as the reference): byte for byte when every line of the file is distinct; for files full of
// repeated lines, where a change can be shown at several places and the whole-file diff can
// even find a shorter script by pairing lines across distant changes, that it is a correct
// diff, no longer than needed by the windows, whose changes all lie in the windows.
import { describe, expect, test } from "bun:test";
import { createTwoFilesPatch, OMIT_HEADERS } from "diff";
import fc from "fast-check";
import { parsePatch } from "../../../src/core/patch/parse.ts";
import { type FileOp, originOf, planPatch } from "../../../src/core/patch/plan.ts";
import { diffText, unifiedDiff } from "../../../src/core/patch/unified-diff.ts";
import { diffWindows, windowedHunks, type Span } from "../../../src/core/patch/windowed-diff.ts";

/** The diff human mode printed before windows: the library on the whole old and new texts. */
const wholeFileDiff = (ops: readonly FileOp[], before: (absPath: string) => string | null): string =>
  diffText(ops, before, (_op, old, now, from, to) => createTwoFilesPatch(from, to, old, now, undefined, undefined, { context: 3, headerOptions: OMIT_HEADERS }));

interface Applied {
  text: string;
  /** Old line numbers (0-based) of the `-` lines, new line numbers of the `+` lines. */
  removed: number[];
  added: number[];
}

function check(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** Applies hunks (a diff without its ---/+++ lines) to `old`, checking every context and removed line and every count. */
function applyHunks(old: string, hunks: string): Applied {
  const tokens = old.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const out: string[] = [];
  const removed: number[] = [];
  const added: number[] = [];
  const lines = hunks === "\n" ? [] : hunks.replace(/\n$/, "").split("\n");
  let at = 0;
  for (let i = 0; i < lines.length; ) {
    const m = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[i]!);
    if (m === null) throw new Error(`not a hunk header: ${lines[i]}`);
    const [oldStart, oldCount, newStart, newCount] = m.slice(1).map(Number) as [number, number, number, number];
    // An empty side names the line before it.
    const from = oldCount === 0 ? oldStart : oldStart - 1;
    check(from >= at, () => `hunk ${lines[i]} starts before the end of the previous one`);
    while (at < from) out.push(tokens[at++]!);
    check(out.length === (newCount === 0 ? newStart : newStart - 1), () => `hunk ${lines[i]}: wrong new start`);
    let o = 0;
    let n = 0;
    for (i++; i < lines.length && !lines[i]!.startsWith("@@"); ) {
      const line = lines[i]!;
      const noNewline = lines[i + 1] === "\\ No newline at end of file";
      const text = line.slice(1) + (noNewline ? "" : "\n");
      check(" -+".includes(line[0]!), () => `not a hunk line: ${line}`);
      if (line[0] !== "+") {
        check(tokens[at] === text, () => `line ${at + 1} is ${JSON.stringify(tokens[at])}, the diff says ${JSON.stringify(text)}`);
        if (line[0] === "-") removed.push(at);
        at++;
        o++;
      }
      if (line[0] !== "-") {
        if (line[0] === "+") added.push(out.length);
        out.push(text);
        n++;
      }
      i += noNewline ? 2 : 1;
    }
    check(o === oldCount && n === newCount, () => `hunk counts ${oldCount},${newCount}, lines ${o},${n}`);
  }
  while (at < tokens.length) out.push(tokens[at++]!);
  return { text: out.join(""), removed, added };
}

const changedLines = (diff: string) => diff.split("\n").filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l)).length;

/** Lines made distinct by their index, or drawn from a few that repeat (alone or in blocks, many times over). */
const linesOf = (distinct: boolean) =>
  distinct
    ? fc.array(fc.string({ maxLength: 6 }), { maxLength: 80, size: "max" }).map((ws) => ws.map((w, i) => `${i}:${w.replace(/[\r\n]/g, "")}`))
    : fc
        .array(fc.tuple(fc.array(fc.constantFrom("a", "b", "c", "", "}", " a", "a\r"), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 12 })), {
          maxLength: 25,
          size: "max",
        })
        .map((blocks) => blocks.flatMap(([block, times]) => Array.from({ length: times }, () => block).flat()));

/** A file and an Update patch for it: chunks at increasing places, each with up to 3 lines of context. */
const scenario = (distinct: boolean) =>
  fc.record({
    lines: linesOf(distinct),
    eol: fc.constantFrom("\n", "\r\n"),
    finalNewline: fc.boolean(),
    /** In a CRLF file, lines that end with LF alone (every n-th; 0: none). */
    lfEvery: fc.constantFrom(0, 0, 2, 5),
    move: fc.boolean(),
    chunks: fc.array(
      fc.record({
        gap: fc.nat(30),
        del: fc.nat(3),
        ins: fc.array(distinct ? fc.string({ maxLength: 4 }).map((s) => `new ${s.replace(/[\r\n]/g, "")}`) : fc.constantFrom("a", "b", "c", "", "}"), { maxLength: 3 }),
        before: fc.nat(3),
        after: fc.nat(3),
        header: fc.boolean(),
      }),
      { minLength: 1, maxLength: 6, size: "max" },
    ),
  });

type Scenario = ReturnType<typeof scenario> extends fc.Arbitrary<infer T> ? T : never;

/** The file's text, its patch, and the patch planned against it (null when the patch does not apply). */
function build(s: Scenario): { old: string; ops: FileOp[] } | null {
  const { lines, eol } = s;
  const ending = (i: number) => (eol === "\r\n" && s.lfEvery > 0 && i > 0 && i % s.lfEvery === 0 ? "\n" : eol);
  const old = lines.map((l, i) => (i < lines.length - 1 || s.finalNewline ? l + ending(i) : l)).join("");
  const body = ["*** Begin Patch", "*** Update File: f.txt", ...(s.move ? ["*** Move to: g.txt"] : [])];
  let pos = 0;
  for (const c of s.chunks) {
    const start = Math.min(lines.length, pos + c.gap);
    const del = Math.min(c.del, lines.length - start);
    const before = lines.slice(Math.max(pos, start - c.before), start);
    const after = lines.slice(start + del, Math.min(lines.length, start + del + c.after));
    const headerAt = start - before.length - 1;
    body.push(c.header && headerAt >= pos ? `@@ ${lines[headerAt]}` : "@@");
    body.push(...before.map((l) => ` ${l}`), ...lines.slice(start, start + del).map((l) => `-${l}`));
    body.push(...c.ins.map((l) => `+${l}`), ...after.map((l) => ` ${l}`));
    if (start + del + after.length >= lines.length && before.length + del + after.length > 0) body.push("*** End of File");
    pos = start + del + after.length;
  }
  body.push("*** End Patch");
  try {
    return { old, ops: planPatch(parsePatch(body.join("\n")), (p) => (p === "/w/f.txt" ? old : null), "/w", (c, p) => `${c}/${p}`) };
  } catch {
    return null; // a chunk matched elsewhere first, and a later one no longer finds its lines
  }
}

describe("windowed diff vs the whole-file diff", () => {
  test("every line distinct: byte for byte the whole-file diff", () => {
    fc.assert(
      fc.property(scenario(true), (s) => {
        const built = build(s);
        fc.pre(built !== null);
        const before = (p: string) => (p === "/w/f.txt" ? built!.old : null);
        expect(unifiedDiff(built!.ops, before)).toBe(wholeFileDiff(built!.ops, before));
      }),
      { numRuns: 1000 },
    );
  });

  test("repeated lines: a correct diff, as short as the windows allow, changes only inside the windows", () => {
    let same = 0;
    let runs = 0;
    fc.assert(
      fc.property(scenario(false), (s) => {
        const built = build(s);
        fc.pre(built !== null);
        const { old, ops } = built!;
        const op = ops[0]!;
        if (op.kind !== "update") throw new Error("not an update");
        const whole = createTwoFilesPatch("f", "g", old, op.newContent, undefined, undefined, { context: 3, headerOptions: OMIT_HEADERS });
        const windowed = windowedHunks(originOf(op)!, op.newContent, "f", "g");
        const windows = diffWindows(originOf(op)!, op.newContent);
        if (windowed === null) {
          // Overlapping edits (a chunk at the end matched before an earlier one): the whole file is diffed.
          expect(windows).toBeNull();
          const before = (p: string) => (p === "/w/f.txt" ? old : null);
          expect(unifiedDiff(ops, before)).toBe(wholeFileDiff(ops, before));
          return;
        }
        runs++;
        if (windowed === whole) same++;
        const applied = applyHunks(old, windowed);
        expect(applied.text).toBe(op.newContent);
        expect(changedLines(windowed)).toBeGreaterThanOrEqual(changedLines(whole));
        const inside = (at: number, side: "old" | "new") =>
          windows!.some((w: Span) => (side === "old" ? w.oldStart <= at && at < w.oldEnd : w.newStart <= at && at < w.newEnd));
        expect(applied.removed.filter((at) => !inside(at, "old"))).toEqual([]);
        expect(applied.added.filter((at) => !inside(at, "new"))).toEqual([]);
      }),
      { numRuns: 600 },
    );
    // Not a rule, a sanity check: the same bytes but for rare ambiguities (measured: about 1 in 2,000).
    expect(same / runs).toBeGreaterThan(0.95);
  });
});

test("Add File and Delete File: every line on one side, byte for byte the whole-file diff", () => {
  const text = fc
    .tuple(fc.array(fc.constantFrom("a", "", " b", "c\r", "é"), { maxLength: 30 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
    .map(([lines, eol, finalNewline]) => lines.join(eol) + (finalNewline && lines.length > 0 ? eol : ""));
  fc.assert(
    fc.property(text, (t) => {
      const ops: FileOp[] = [
        { kind: "add", path: "/w/new", patchPath: "new", newContent: t },
        { kind: "delete", path: "/w/old", patchPath: "old" },
      ];
      const before = (p: string) => (p === "/w/old" ? t : null);
      expect(unifiedDiff(ops, before)).toBe(wholeFileDiff(ops, before));
    }),
    { numRuns: 300 },
  );
});

describe("windows", () => {
  const LINES = 50_000;
  const lines = Array.from({ length: LINES }, (_, i) => `line ${i}`);
  const original = `${lines.join("\n")}\n`;

  test("200 one-line changes in a 50,000-line file: the library sees a few thousand lines, the diff is the whole-file one", () => {
    const body = ["*** Begin Patch", "*** Update File: big.txt"];
    for (let at = 10; at < LINES; at += 250) body.push("@@", ...lines.slice(at - 3, at).map((l) => ` ${l}`), `-${lines[at]}`, `+${lines[at]} changed`, ...lines.slice(at + 1, at + 4).map((l) => ` ${l}`));
    body.push("*** End Patch");
    const ops = planPatch(parsePatch(body.join("\n")), () => original, "/w", (c, p) => `${c}/${p}`);
    const op = ops[0]!;
    if (op.kind !== "update") throw new Error("not an update");
    const windows = diffWindows(originOf(op)!, op.newContent)!;
    expect(windows).toHaveLength(200);
    const seen = windows.reduce((n, w) => n + (w.oldEnd - w.oldStart) + (w.newEnd - w.newStart), 0);
    expect(seen).toBeLessThan(200 * 2 * 30);
    expect(unifiedDiff(ops, () => original)).toBe(wholeFileDiff(ops, () => original));
  });

  test("a window that ends in a run of repeated lines goes on to its end", () => {
    const text = ["x", ...Array.from({ length: 40 }, () => ""), "y", ...Array.from({ length: 40 }, (_, i) => `z${i}`)].join("\n") + "\n";
    const patch = ["*** Begin Patch", "*** Update File: f", "@@", " x", " ", "+", " ", "*** End Patch"].join("\n");
    const ops = planPatch(parsePatch(patch), () => text, "/w", (c, p) => `${c}/${p}`);
    const op = ops[0]!;
    if (op.kind !== "update") throw new Error("not an update");
    // The blank line is shown at the end of the run, as the whole-file diff shows it.
    expect(diffWindows(originOf(op)!, op.newContent)).toEqual([{ oldStart: 0, oldEnd: 41, newStart: 0, newEnd: 42 }]);
    expect(unifiedDiff(ops, () => text)).toBe(wholeFileDiff(ops, () => text));
    expect(unifiedDiff(ops, () => text)).toContain("@@ -39,6 +39,7 @@\n \n \n \n+\n y\n z0\n z1");
  });

  test("a file that is one long repetition: one window, from the first change to the end", () => {
    const text = Array.from({ length: 2000 }, (_, i) => (i % 2 ? "}" : "")).join("\n") + "\n";
    const body = ["*** Begin Patch", "*** Update File: f"];
    for (let at = 100; at < 2000; at += 200) body.push("@@", ` ${text.split("\n")[at - 1]}`, `+changed ${at}`);
    body.push("*** End Patch");
    const ops = planPatch(parsePatch(body.join("\n")), () => text, "/w", (c, p) => `${c}/${p}`);
    const op = ops[0]!;
    if (op.kind !== "update") throw new Error("not an update");
    const windows = diffWindows(originOf(op)!, op.newContent)!;
    expect(windows).toHaveLength(1);
    expect(windows[0]!.oldEnd).toBe(2000);
    expect(windowedHunks(originOf(op)!, op.newContent, "f", "f")).toBe(
      createTwoFilesPatch("f", "f", text, op.newContent, undefined, undefined, { context: 3, headerOptions: OMIT_HEADERS }),
    );
  });

  test("an op whose origin is not the text given (the file was updated earlier in the patch) is diffed whole", () => {
    const patch = ["*** Begin Patch", "*** Update File: f", "@@", "-line 1", "+one", "*** Update File: f", "@@", "-line 40", "+forty", "*** End Patch"].join("\n");
    const text = lines.slice(0, 60).join("\n") + "\n";
    const ops = planPatch(parsePatch(patch), () => text, "/w", (c, p) => `${c}/${p}`);
    expect(unifiedDiff(ops, () => text)).toBe(wholeFileDiff(ops, () => text));
    expect(unifiedDiff(ops, () => text).match(/^@@ /gm)).toHaveLength(3);
  });
});
