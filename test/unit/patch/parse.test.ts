import { describe, expect, test } from "bun:test";
import { parsePatch } from "../../../src/core/patch/parse.ts";
import { PatchError } from "../../../src/core/patch/patch-error.ts";

const wrap = (...body: string[]) => ["*** Begin Patch", ...body, "*** End Patch"].join("\n");
const HEADERS = "Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'";
const UNEXPECTED = "Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)";

describe("parsePatch: accepted grammar", () => {
  const cases: Array<[string, string, unknown]> = [
    ["empty patch parses to zero hunks", wrap(), []],
    ["surrounding whitespace is trimmed", `\n\n  ${wrap("*** Delete File: a")}  \n\n`, [{ kind: "delete", path: "a" }]],
    ["marker lines are trimmed", ["  *** Begin Patch  ", "*** Delete File: a", " *** End Patch"].join("\n"), [{ kind: "delete", path: "a" }]],
    ["CRLF patch text", wrap("*** Add File: a", "+x").replace(/\n/g, "\r\n"), [{ kind: "add", path: "a", contents: "x\n" }]],
    ["heredoc <<EOF", ["<<EOF", wrap("*** Delete File: a"), "EOF"].join("\n"), [{ kind: "delete", path: "a" }]],
    ["heredoc <<'EOF'", ["<<'EOF'", wrap("*** Delete File: a"), "EOF"].join("\n"), [{ kind: "delete", path: "a" }]],
    ['heredoc <<"EOF"', ['<<"EOF"', wrap("*** Delete File: a"), "EOF"].join("\n"), [{ kind: "delete", path: "a" }]],
    ["heredoc last line only ends in EOF", ["<<EOF", wrap("*** Delete File: a"), "  EOF"].join("\n"), [{ kind: "delete", path: "a" }]],
    ["Add File: + lines, each ending in \\n", wrap("*** Add File: a.txt", "+one", "+", "+ two "), [{ kind: "add", path: "a.txt", contents: "one\n\n two \n" }]],
    ["Add File with no lines", wrap("*** Add File: a"), [{ kind: "add", path: "a", contents: "" }]],
    ["Add File stops at a non-+ line", wrap("*** Add File: a", "+x", "*** Delete File: b"), [{ kind: "add", path: "a", contents: "x\n" }, { kind: "delete", path: "b" }]],
    ["header lines are trimmed", wrap("  *** Delete File: a b  "), [{ kind: "delete", path: "a b" }]],
    ["paths with spaces and Unicode", wrap("*** Delete File: dir with space/ünï 文件.txt"), [{ kind: "delete", path: "dir with space/ünï 文件.txt" }]],
    [
      "Update without @@ on the first chunk",
      wrap("*** Update File: a", " ctx", "-old", "+new"),
      [{ kind: "update", path: "a", movePath: null, chunks: [{ changeContext: null, oldLines: ["ctx", "old"], newLines: ["ctx", "new"], isEndOfFile: false }] }],
    ],
    [
      "Update with Move to, @@, @@ ctx, blank context line, blank lines between chunks, End of File",
      wrap("*** Update File: a", "*** Move to: b/c d", "@@", " x", "", "-y", "  ", "*** End of File", "", "  ", "@@ def f():", "+z", "*** End of File"),
      [
        {
          kind: "update",
          path: "a",
          movePath: "b/c d",
          chunks: [
            { changeContext: null, oldLines: ["x", "", "y", " "], newLines: ["x", "", " "], isEndOfFile: true },
            { changeContext: "def f():", oldLines: [], newLines: ["z"], isEndOfFile: true },
          ],
        },
      ],
    ],
    [
      "a line starting with *** ends the update hunk",
      wrap("*** Update File: a", "@@", "+x", "*** Add File: b", "+y"),
      [
        { kind: "update", path: "a", movePath: null, chunks: [{ changeContext: null, oldLines: [], newLines: ["x"], isEndOfFile: false }] },
        { kind: "add", path: "b", contents: "y\n" },
      ],
    ],
    [
      "another first char ends the chunk; a new @@ starts the next",
      wrap("*** Update File: a", "-x", "@@ ctx", "+y"),
      [
        {
          kind: "update",
          path: "a",
          movePath: null,
          chunks: [
            { changeContext: null, oldLines: ["x"], newLines: [], isEndOfFile: false },
            { changeContext: "ctx", oldLines: [], newLines: ["y"], isEndOfFile: false },
          ],
        },
      ],
    ],
  ];
  for (const [name, text, want] of cases) test(name, () => expect(parsePatch(text)).toEqual(want as never));
});

describe("parsePatch: error messages", () => {
  const FIRST = "invalid patch: The first line of the patch must be '*** Begin Patch'";
  const LAST = "invalid patch: The last line of the patch must be '*** End Patch'";
  const cases: Array<[string, string, string]> = [
    ["empty input", "", LAST],
    ["missing begin", "*** Delete File: a\n*** End Patch", FIRST],
    ["missing end", "*** Begin Patch\n*** Delete File: a", LAST],
    ["only begin", "*** Begin Patch", LAST],
    ["heredoc shorter than 4 lines", `<<EOF\n${wrap()}\nEOF`.replace("*** Begin Patch\n", ""), FIRST],
    ["heredoc with a bad inner first line", ["<<EOF", "oops", "*** Delete File: a", "*** End Patch", "EOF"].join("\n"), FIRST],
    ["heredoc with a bad inner last line", ["<<EOF", "*** Begin Patch", "*** Delete File: a", "oops", "EOF"].join("\n"), LAST],
    ["heredoc opener not exact", ["<<END", wrap("*** Delete File: a"), "EOF"].join("\n"), FIRST],
    ["invalid hunk header", wrap("*** Frobnicate File: a"), `invalid hunk at line 2, '*** Frobnicate File: a' is not a valid hunk header. ${HEADERS}`],
    ["invalid header after a valid hunk", wrap("*** Delete File: a", "", "bad"), `invalid hunk at line 3, '' is not a valid hunk header. ${HEADERS}`],
    ["empty update", wrap("*** Update File: a"), "invalid hunk at line 2, Update file hunk for path 'a' is empty"],
    ["empty update with move", wrap("*** Delete File: z", "*** Update File: a", "*** Move to: b"), "invalid hunk at line 3, Update file hunk for path 'a' is empty"],
    ["@@ with no lines", wrap("*** Update File: a", "@@"), "invalid hunk at line 4, Update hunk does not contain any lines"],
    ["End of File with no lines", wrap("*** Update File: a", "@@", "*** End of File"), "invalid hunk at line 4, Update hunk does not contain any lines"],
    ["unexpected first line of a chunk", wrap("*** Update File: a", "@@", "?x"), `invalid hunk at line 4, Unexpected line found in update hunk: '?x'. ${UNEXPECTED}`],
    // the reference reports header line + 1 even when the chunk has no @@ line
    ["unexpected line without @@", wrap("*** Update File: a", "?x"), `invalid hunk at line 4, Unexpected line found in update hunk: '?x'. ${UNEXPECTED}`],
    ["second chunk without @@", wrap("*** Update File: a", "-x", "", "?y"), "invalid hunk at line 5, Expected update hunk to start with a @@ context marker, got: '?y'"],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      let err: unknown;
      try {
        parsePatch(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PatchError);
      expect((err as Error).message).toBe(message);
    });
  }
});
