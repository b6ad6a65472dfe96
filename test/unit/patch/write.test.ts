// The steps that write a verified patch: atomic writes through a new temporary file, removal,
// stopping at the first failure, and the JSON the confined writer reads and answers.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../../src/adapters/bun.ts";
import { parseResult, parseSteps, performSteps, type StepFs } from "../../../src/core/patch/write.ts";

const fs = bunRuntime().fs;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = realpathSync(mkdtempSync(join(tmpdir(), "ocx-patch-write-")));
  dirs.push(d);
  return d;
};

describe("performSteps", () => {
  test("writes (creating parents, keeping the given mode), removes, and leaves no temporary file", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "gone"), "x");
    symlinkSync(join(dir, "elsewhere"), join(dir, "link"));
    const result = await performSteps(fs, [
      { op: "write", path: join(dir, "a/b/c.txt"), content: "c\n", mode: 0o640 },
      { op: "remove", path: join(dir, "gone") },
      { op: "remove", path: join(dir, "link") },
      { op: "remove", path: join(dir, "never-there") },
    ]);
    expect(result).toEqual({ ok: true });
    expect(readFileSync(join(dir, "a/b/c.txt"), "utf8")).toBe("c\n");
    expect(statSync(join(dir, "a/b/c.txt")).mode & 0o7777).toBe(0o640);
    expect(readdirSync(dir).sort()).toEqual(["a"]);
    expect(readdirSync(join(dir, "a/b"))).toEqual(["c.txt"]);
  });

  test("stops at the first failing step and names it; later steps are not run", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file"), "f");
    const result = await performSteps(fs, [
      { op: "write", path: join(dir, "one"), content: "1" },
      { op: "write", path: join(dir, "file/two"), content: "2" },
      { op: "write", path: join(dir, "three"), content: "3" },
    ]);
    expect(result).toEqual({ ok: false, step: 1, error: `EEXIST: file already exists, mkdir '${join(dir, "file")}'` });
    expect(readdirSync(dir).sort()).toEqual(["file", "one"]);
  });

  test("a temporary name that is already taken is never written through; a failed rename removes the temporary file", async () => {
    const calls: string[] = [];
    const fake: StepFs = {
      mkdir: async () => {},
      createExclusive: async (p) => (calls.push(`create ${p}`), false),
      chmod: async () => {},
      rename: async () => {},
      remove: async (p) => void calls.push(`remove ${p}`),
    };
    const taken = await performSteps(fake, [{ op: "write", path: "/w/x.txt", content: "x" }]);
    expect(taken).toMatchObject({ ok: false, step: 0, error: expect.stringMatching(/^EEXIST: file already exists, open '\/w\/\.x\.txt\.ocx-[0-9a-f]{8}\.tmp'$/) });
    expect(calls).toEqual([expect.stringMatching(/^create \/w\/\.x\.txt\.ocx-/)]);

    calls.length = 0;
    const refused = await performSteps({ ...fake, createExclusive: async () => true, rename: async () => Promise.reject(new Error("EROFS: read-only file system, rename")) }, [
      { op: "write", path: "/w/y", content: "y" },
    ]);
    expect(refused).toEqual({ ok: false, step: 0, error: "EROFS: read-only file system, rename" });
    expect(calls).toEqual([expect.stringMatching(/^remove \/w\/\.y\.ocx-[0-9a-f]{8}\.tmp$/)]);
  });
});

describe("the writer's JSON", () => {
  test("steps: writes and removes of absolute paths, nothing else", () => {
    const ok = [{ op: "write", path: "/a", content: "x", mode: 0o755 }, { op: "write", path: "/b", content: "" }, { op: "remove", path: "/c" }];
    expect(parseSteps(JSON.stringify(ok))).toEqual(ok as never);
    expect(parseSteps("[")).toStartWith("the steps are not JSON");
    expect(parseSteps("{}")).toBe("the steps are not a list");
    for (const bad of [{ op: "write", path: "rel", content: "" }, { op: "write", path: "/a" }, { op: "write", path: "/a", content: "", mode: 0o10000 }, { op: "chmod", path: "/a" }, null]) {
      expect(parseSteps(JSON.stringify([{ op: "remove", path: "/ok" }, bad]))).toBe("step 1 is not a write or remove of an absolute path");
    }
  });

  test("result: done, or the failed step and why; anything else is no answer", () => {
    expect(parseResult('{"ok":true}')).toEqual({ ok: true });
    expect(parseResult('{"ok":false,"step":2,"error":"EACCES"}')).toEqual({ ok: false, step: 2, error: "EACCES" });
    for (const bad of ["", "ok", '{"ok":false}', '{"ok":false,"step":"1","error":"x"}', "null"]) expect(parseResult(bad)).toBeNull();
  });
});
