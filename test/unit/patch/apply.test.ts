import { describe, expect, test } from "bun:test";
import { applyHunksToText } from "../../../src/core/patch/apply.ts";
import { parsePatch } from "../../../src/core/patch/parse.ts";
import { PatchError } from "../../../src/core/patch/patch-error.ts";
import { planPatch } from "../../../src/core/patch/plan.ts";
import { summarize } from "../../../src/core/patch/summary.ts";
import type { UpdateChunk } from "../../../src/core/patch/types.ts";

const wrap = (...body: string[]) => ["*** Begin Patch", ...body, "*** End Patch"].join("\n");
const resolve = (cwd: string, p: string) => (p.startsWith("/") ? p : `${cwd}/${p}`);
const CWD = "/w";

/** Parse `body` as an Update of "f" and apply it to `original`. */
function update(original: string, ...body: string[]): string {
  const [hunk] = parsePatch(wrap("*** Update File: f", ...body));
  return applyHunksToText(original, (hunk as { chunks: UpdateChunk[] }).chunks, "/w/f");
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PatchError);
    return (e as Error).message;
  }
  throw new Error("expected a PatchError");
}

function plan(files: Record<string, string>, ...body: string[]) {
  const fs = new Map(Object.entries(files));
  return planPatch(parsePatch(wrap(...body)), (p) => fs.get(p) ?? null, CWD, resolve);
}

describe("applyHunksToText", () => {
  const cases: Array<[string, string, string[], string]> = [
    ["replace a line", "a\nb\nc\n", [" a", "-b", "+B", " c"], "a\nB\nc\n"],
    ["result always ends with a newline", "a\nb", ["-b", "+B"], "a\nB\n"],
    ["pure insertion at EOF (no old lines)", "a\nb\n", ["@@", "+c", "+d"], "a\nb\nc\nd\n"],
    ["insertion into an empty file", "", ["+x"], "x\n"],
    ["insertion goes before a trailing blank line", "a\n\n", ["+x"], "a\nx\n\n"],
    // the reference would drop the trailing blank line here ("a\nB\n"); ocx keeps it
    ["a trailing blank line survives an unrelated edit", "a\nb\n\n", ["-b", "+B"], "a\nB\n\n"],
    ["appending a blank line keeps it", "a\n", ["+"], "a\n\n"],
    ["deleting every line gives an empty file", "a\nb\n", ["-a", "-b"], ""],
    ["@@ ctx moves the cursor past the context line", "f\nx\ng\nx\n", ["@@ g", "-x", "+y"], "f\nx\ng\ny\n"],
    ["@@ ctx then pure insertion still appends at EOF", "a\nb\n", ["@@ a", "+z"], "a\nb\nz\n"],
    ["chunks apply in order with the cursor advancing", "x\nx\nx\n", ["-x", "+1", "@@", "-x", "+2"], "1\n2\nx\n"],
    ["delete lines", "a\nb\nc\nd\n", [" a", "-b", "-c", " d"], "a\nd\n"],
    ["End of File anchors the match to the end", "x\ny\nx\n", ["-x", "+z", "*** End of File"], "x\ny\nz\n"],
    ["trailing blank context retried without it", "a\nb\n", [" a", "-b", "+c", ""], "a\nc\n"],
    // context lines are rewritten as the patch spells them (as the reference does)
    ["pass 2 match: trailing whitespace", "a  \nb\n", [" a", "-b", "+c"], "a\nc\n"],
    ["pass 3 match: indentation", "    a\nb\n", [" a", "-b", "+c"], "a\nc\n"],
    ["pass 4 match: Unicode punctuation", "s = \u201Chi\u201D \u2014 ok\n", ['-s = "hi" - ok', "+s = 1"], "s = 1\n"],
    ["CRLF file keeps CRLF", "a\r\nb\r\nc\r\n", [" a", "-b", "+B", "+B2", " c"], "a\r\nB\r\nB2\r\nc\r\n"],
    ["CRLF file without a final newline gets CRLF", "a\r\nb", ["-b", "+c"], "a\r\nc\r\n"],
    ["CRLF insertion at EOF", "a\r\n", ["+b"], "a\r\nb\r\n"],
    ["LF file stays LF", "a\nb\n", ["-a", "+x"], "x\nb\n"],
    ["Unicode content", "héllo 世界\n", ["-héllo 世界", "+bye 🌍"], "bye 🌍\n"],
  ];
  for (const [name, original, body, want] of cases) test(name, () => expect(update(original, ...body)).toBe(want));

  test("missing context line", () => {
    expect(errorOf(() => update("a\nb\n", "@@ nope", "-a"))).toBe("Failed to find context 'nope' in /w/f");
  });
  test("@@ context must be at or after the cursor", () => {
    expect(errorOf(() => update("c\na\n", "-a", "@@ c", "+x"))).toBe("Failed to find context 'c' in /w/f");
  });
  test("missing expected lines lists the old lines", () => {
    expect(errorOf(() => update("a\nb\n", " a", "-zzz", " b"))).toBe("Failed to find expected lines in /w/f:\na\nzzz\nb");
  });
});

describe("planPatch and summarize", () => {
  test("add, update, delete; summary lists A, M, D with paths as written", () => {
    const ops = plan(
      { "/w/u.txt": "1\n2\n", "/w/d.txt": "bye\n" },
      "*** Delete File: d.txt",
      "*** Update File: u.txt",
      "-2",
      "+two",
      "*** Add File: new dir/ñ.txt",
      "+hi",
    );
    expect(ops).toEqual([
      { kind: "delete", path: "/w/d.txt", patchPath: "d.txt" },
      { kind: "update", path: "/w/u.txt", patchPath: "u.txt", newContent: "1\ntwo\n" },
      { kind: "add", path: "/w/new dir/ñ.txt", patchPath: "new dir/ñ.txt", newContent: "hi\n" },
    ]);
    expect(summarize(ops)).toBe("Success. Updated the following files:\nA new dir/ñ.txt\nM u.txt\nD d.txt\n");
  });

  test("move: destination listed as M, absolute paths in the op", () => {
    const ops = plan({ "/w/a.txt": "x\n" }, "*** Update File: a.txt", "*** Move to: sub/b c.txt", "-x", "+y");
    expect(ops).toEqual([
      { kind: "update", path: "/w/a.txt", patchPath: "a.txt", movePath: "/w/sub/b c.txt", patchMovePath: "sub/b c.txt", newContent: "y\n" },
    ]);
    expect(summarize(ops)).toBe("Success. Updated the following files:\nM sub/b c.txt\n");
  });

  test("absolute paths are kept", () => {
    const ops = plan({}, "*** Add File: /abs/x", "+1");
    expect(ops[0]).toMatchObject({ path: "/abs/x", patchPath: "/abs/x" });
  });

  test("Add File overwrites an existing file", () => {
    expect(plan({ "/w/a": "old\n" }, "*** Add File: a", "+new")).toEqual([
      { kind: "add", path: "/w/a", patchPath: "a", newContent: "new\n" },
    ]);
  });

  test("deleting a missing file fails", () => {
    expect(errorOf(() => plan({}, "*** Delete File: gone.txt"))).toBe("Failed to read /w/gone.txt: No such file or directory (os error 2)");
  });

  test("updating a missing file fails", () => {
    expect(errorOf(() => plan({}, "*** Update File: gone.txt", "+x"))).toBe(
      "Failed to read file to update /w/gone.txt: No such file or directory (os error 2)",
    );
  });

  test("a later hunk sees the in-memory result of earlier ones", () => {
    expect(errorOf(() => plan({ "/w/a": "x\n" }, "*** Delete File: a", "*** Delete File: a"))).toBe(
      "Failed to read /w/a: No such file or directory (os error 2)",
    );
    expect(errorOf(() => plan({ "/w/a": "x\n" }, "*** Delete File: a", "*** Update File: a", "+y"))).toMatch(/^Failed to read file to update \/w\/a/);
    const ops = plan({}, "*** Add File: a", "+1", "*** Update File: a", "-1", "+2");
    expect(ops[1]).toMatchObject({ kind: "update", newContent: "2\n" });
    const moved = plan({ "/w/a": "1\n" }, "*** Update File: a", "*** Move to: b", "-1", "+2", "*** Update File: b", "-2", "+3");
    expect(moved[1]).toMatchObject({ path: "/w/b", newContent: "3\n" });
    expect(errorOf(() => plan({ "/w/a": "1\n" }, "*** Update File: a", "*** Move to: b", "+2", "*** Delete File: a"))).toMatch(/^Failed to read \/w\/a/);
  });

  test("a patch whose second hunk fails throws, so nothing is written", () => {
    let reads = 0;
    const files = new Map([["/w/ok", "a\n"], ["/w/bad", "b\n"]]);
    const hunks = parsePatch(wrap("*** Update File: ok", "-a", "+A", "*** Update File: bad", "-nope", "+x"));
    const run = () => planPatch(hunks, (p) => (reads++, files.get(p) ?? null), CWD, resolve);
    expect(errorOf(run)).toBe("Failed to find expected lines in /w/bad:\nnope");
    expect(reads).toBe(2);
    expect(files.get("/w/ok")).toBe("a\n");
  });

  test("an empty patch is rejected", () => {
    expect(errorOf(() => plan({}))).toBe("No files were modified.");
  });
});
