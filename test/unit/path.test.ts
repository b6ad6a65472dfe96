// core/util/path.ts against pathe: the same result for every path, POSIX ones through its own
// loop, the rest handed to pathe.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import * as pathe from "pathe";
import * as path from "../../src/core/util/path.ts";

const segment = fc.constantFrom("a", "b", "src", ".", "..", "...", "", "x.y", ".git", "a:", "C:", "c:", " ", "é", "\\", "a\\b");
const pathArb = fc.tuple(fc.constantFrom("", "/", "//", "C:/", "c:\\", "\\\\"), fc.array(segment, { maxLength: 7 }), fc.constantFrom("", "/", "//")).map(([lead, segs, trail]) => lead + segs.join("/") + trail);
const posixArb = fc.tuple(fc.constantFrom("", "/"), fc.array(fc.constantFrom("a", "bc", ".", "..", "", "d.e", "..."), { maxLength: 8 }), fc.constantFrom("", "/")).map(([lead, segs, trail]) => lead + segs.join("/") + trail);
const any = fc.oneof(pathArb, posixArb);

describe("core/util/path gives pathe's results", () => {
  test("normalize, isAbsolute, dirname, basename", () => {
    fc.assert(
      fc.property(any, (p) => {
        expect([p, path.normalize(p)]).toEqual([p, pathe.normalize(p)]);
        expect([p, path.isAbsolute(p)]).toEqual([p, pathe.isAbsolute(p)]);
        expect([p, path.dirname(p)]).toEqual([p, pathe.dirname(p)]);
        expect([p, path.basename(p)]).toEqual([p, pathe.basename(p)]);
        expect([p, path.basename(p, ".y")]).toEqual([p, pathe.basename(p, ".y")]);
      }),
      { numRuns: 5000 },
    );
  });

  test("join and resolve of several paths (resolve from an absolute one: core never resolves against the process's cwd)", () => {
    fc.assert(
      fc.property(fc.array(any, { maxLength: 4 }), (ps) => {
        expect([ps, path.join(...ps)]).toEqual([ps, pathe.join(...ps)]);
        const from = ["/work/x", ...ps];
        expect([from, path.resolve(...from)]).toEqual([from, pathe.resolve(...from)]);
      }),
      { numRuns: 5000 },
    );
  });

  test("the paths a run builds", () => {
    expect(path.join("/home/u/.codex", "config.toml")).toBe("/home/u/.codex/config.toml");
    expect(path.join("/", ".git")).toBe("/.git");
    expect(path.resolve("/work/repo", ".")).toBe("/work/repo");
    expect(path.resolve("/work/repo", "../x/./y/")).toBe("/work/x/y");
    expect(path.dirname("/")).toBe("/");
    expect(path.dirname("/a")).toBe("/");
    expect(path.basename("/bin/bash")).toBe("bash");
    expect(path.join("C:\\Users\\me", ".codex")).toBe(pathe.join("C:\\Users\\me", ".codex"));
  });
});
