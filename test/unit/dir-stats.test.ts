// FileSystem.startStatEntries: the C scan of the Bun adapter (dir-stats.c) and the node:fs one
// of common.ts give, for each matching entry of each folder, what statSync of its path gives.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statEntries as nodeStatEntries } from "../../src/adapters/common.ts";
import { startStatEntries, startStatEntriesInC } from "../../src/adapters/dir-stats.ts";
import type { EntryMatch, EntryStats } from "../../src/core/runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();
const ROLLOUTS: EntryMatch = { prefix: "rollout-", suffix: ".jsonl" };

/** One line per entry, sorted (the order of entries is free): folder, name, then its stat or "null". */
function rows(dirs: readonly string[], e: EntryStats): string[] {
  for (const col of [e.mode, e.mtimeMs, e.size]) expect(col.length).toBe(e.folder.length);
  return Array.from(e.folder, (d, k) => `${dirs[d]}/${e.name(k)} ${e.mode[k] === 0 ? "null" : `${e.mode[k]} ${e.mtimeMs[k]} ${e.size[k]}`}`).sort();
}

/** What readdirSync and statSync of each match say. */
function expected(dirs: readonly string[], match: EntryMatch): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.length < match.prefix.length + match.suffix.length || !n.startsWith(match.prefix) || !n.endsWith(match.suffix)) continue;
      try {
        const s = statSync(`${d}/${n}`);
        out.push(`${d}/${n} ${s.mode} ${s.mtimeMs} ${s.size}`);
      } catch {
        out.push(`${d}/${n} null`);
      }
    }
  }
  return out.sort();
}

/** A few folders holding files, links and junk of every kind, with distinct times and sizes. */
function tree(): string[] {
  const root = tempDir("ocx-dir-stats-");
  const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d));
  for (const d of [a, b, c]) mkdirSync(d!);
  for (let i = 0; i < 30; i++) {
    const path = join(i % 2 ? a! : b!, `rollout-${i}.jsonl`);
    writeFileSync(path, "x".repeat(i * 7));
    const t = new Date(Date.UTC(2026, 0, 1) + i * 1_234_567 + 0.5);
    utimesSync(path, t, t);
  }
  // Not matching: other names, a prefix and suffix that overlap, dot files.
  for (const n of ["rollout-1.json", "xrollout-1.jsonl", "rollout.jsonl", ".jsonl", "README"]) writeFileSync(join(a!, n), "no");
  // Matching, but not plain files: a folder, a link to a file, dangling and looping links, a file with no access.
  mkdirSync(join(c!, "rollout-folder.jsonl"));
  symlinkSync(join(a!, "rollout-1.jsonl"), join(c!, "rollout-link.jsonl"));
  symlinkSync(join(root, "nowhere"), join(c!, "rollout-dangling.jsonl"));
  symlinkSync(join(c!, "rollout-loop.jsonl"), join(c!, "rollout-loop.jsonl"));
  writeFileSync(join(c!, "rollout-closed.jsonl"), "secret", { mode: 0o000 });
  writeFileSync(join(c!, "rollout-é✓ 中.jsonl"), "unicode");
  // A file where a folder is expected, and a folder that does not exist.
  writeFileSync(join(root, "file"), "not a folder");
  return [a!, b!, c!, join(root, "file"), join(root, "missing"), a!];
}

describe("startStatEntries", () => {
  test("in C on Linux: each matching entry with the stat of its path (links followed, null where stat fails), as node:fs gives it", async () => {
    const dirs = tree();
    const want = expected(dirs, ROLLOUTS);
    expect(want.length).toBe(15 + 15 + 6 + 15); // a, b, c and a again
    expect(want.filter((r) => r.endsWith(" null")).length).toBe(2);
    const inC = startStatEntriesInC(dirs, ROLLOUTS)?.() ?? null;
    if (process.platform === "linux") expect(inC).not.toBeNull();
    if (inC) expect(rows(dirs, inC)).toEqual(want);
    expect(rows(dirs, await nodeStatEntries(dirs, ROLLOUTS))).toEqual(want);
    expect(rows(dirs, await (await startStatEntries(dirs, ROLLOUTS))())).toEqual(want);
  });

  test("a folder with no access has no entries", async () => {
    const root = tempDir("ocx-dir-stats-");
    const shut = join(root, "shut");
    mkdirSync(shut);
    writeFileSync(join(shut, "rollout-1.jsonl"), "x");
    chmodSync(shut, 0o000);
    try {
      const want = expected([shut], ROLLOUTS); // empty, unless this runs as root
      expect(rows([shut], await (await startStatEntries([shut], ROLLOUTS))())).toEqual(want);
      expect(rows([shut], await nodeStatEntries([shut], ROLLOUTS))).toEqual(want);
    } finally {
      chmodSync(shut, 0o700);
    }
  });

  test("more entries and names than the C scan's first room: it makes more and gives them all", () => {
    const dirs = tree();
    const inC = startStatEntriesInC(dirs, ROLLOUTS, { room: { entries: 1, nameBytes: 8 } })?.() ?? null;
    if (process.platform === "linux") expect(inC).not.toBeNull();
    if (inC) expect(rows(dirs, inC)).toEqual(expected(dirs, ROLLOUTS));
  });

  test("on one thread or many (more than folders, or than the C part takes), the same entries", () => {
    const dirs = tree();
    const want = expected(dirs, ROLLOUTS);
    for (const threads of [1, 2, 3, 5, 6, 7, 40]) {
      const inC = startStatEntriesInC(dirs, ROLLOUTS, { threads })?.() ?? null;
      if (process.platform === "linux") expect(inC).not.toBeNull();
      if (inC) expect(rows(dirs, inC)).toEqual(want);
    }
  });

  test("any prefix and suffix; no folders, or no match, is nothing", async () => {
    const dirs = tree();
    for (const match of [{ prefix: "", suffix: "" }, { prefix: "rollout-1", suffix: "" }, { prefix: "", suffix: ".json" }, { prefix: "none", suffix: "" }]) {
      expect(rows(dirs, await (await startStatEntries(dirs, match))())).toEqual(expected(dirs, match));
      expect(rows(dirs, await nodeStatEntries(dirs, match))).toEqual(expected(dirs, match));
    }
    for (const f of [async (d: string[], m: EntryMatch) => (await startStatEntries(d, m))(), nodeStatEntries]) {
      const none = await f([], ROLLOUTS);
      expect(none.folder.length + none.mode.length + none.mtimeMs.length + none.size.length).toBe(0);
    }
  });

  test("scans under way together, each answer taken when wanted, and once", async () => {
    const dirs = tree();
    const want = expected(dirs, ROLLOUTS);
    const first = startStatEntries(dirs, ROLLOUTS);
    const second = startStatEntriesInC(dirs, ROLLOUTS, { threads: 3 });
    const third = startStatEntries(dirs.slice(0, 2), ROLLOUTS);
    expect(rows(dirs.slice(0, 2), await third())).toEqual(expected(dirs.slice(0, 2), ROLLOUTS));
    if (second) {
      expect(rows(dirs, second())).toEqual(want);
      expect(() => second()).toThrow("once");
    }
    expect(rows(dirs, await first())).toEqual(want);
  });
});
