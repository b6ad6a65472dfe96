// FileSystem.startStatDays on Bun (dir-stats.c): the date folders of a tree, newest first, and
// for each matching entry what statSync of its path gives; and FileSystem.startStatEntries
// through node:fs (common.ts), which the listing falls back to.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statEntries as nodeStatEntries } from "../../src/adapters/common.ts";
import { startEarly, startStatDays, startStatDaysInC } from "../../src/adapters/dir-stats.ts";
import { sessionsToWalk } from "../../src/cli/early.ts";
import type { DatedEntryStats, EntryMatch, EntryStats } from "../../src/core/runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();
const ROLLOUTS: EntryMatch = { prefix: "rollout-", suffix: ".jsonl" };
const linux = process.platform === "linux";

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

/** Folders named by digits only, greatest number first, exactly (BigInt), at any length. */
function digitFolders(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0))
    .map((n) => `${parent}/${n}`);
}
const dayFolders = (root: string) => digitFolders(root).flatMap(digitFolders).flatMap(digitFolders);

/** A date tree holding files, links and junk of every kind, with distinct times and sizes. */
function tree(): string {
  const root = tempDir("ocx-dir-stats-");
  // Numbers past 2^53, leading zeros, one digit: exact order needed. No two names of one number
  // (such ties keep the order read, which differs by file system).
  const [a, b, c, d] = ["2026/11/05", "2026/008/30", "99999999999999999999/1/1", "2025/007/0031"].map((p) => join(root, p));
  for (const dir of [a, b, c, d]) mkdirSync(dir!, { recursive: true });
  mkdirSync(join(root, "99999999999999999998/12/31"), { recursive: true });
  for (let i = 0; i < 30; i++) {
    const path = join([a, b, d][i % 3]!, `rollout-${i}.jsonl`);
    writeFileSync(path, "x".repeat(i * 7));
    const t = new Date(Date.UTC(2026, 0, 1) + i * 1_234_567 + 0.5);
    utimesSync(path, t, t);
  }
  // Not matching: other names, a prefix and suffix that overlap, dot files.
  for (const n of ["rollout-1.json", "xrollout-1.jsonl", "rollout.jsonl", ".jsonl", "README"]) writeFileSync(join(a!, n), "no");
  // Matching, but not plain files: a folder, a link to a file, dangling and looping links, a file with no access.
  mkdirSync(join(c!, "rollout-folder.jsonl"));
  symlinkSync(join(a!, "rollout-0.jsonl"), join(c!, "rollout-link.jsonl"));
  symlinkSync(join(root, "nowhere"), join(c!, "rollout-dangling.jsonl"));
  symlinkSync(join(c!, "rollout-loop.jsonl"), join(c!, "rollout-loop.jsonl"));
  writeFileSync(join(c!, "rollout-closed.jsonl"), "secret", { mode: 0o000 });
  writeFileSync(join(c!, "rollout-é✓ 中.jsonl"), "unicode");
  // (older than the numbered ones: rollout-29 is the one newest)
  const old = new Date(Date.UTC(2025, 0, 1));
  for (const n of ["rollout-closed.jsonl", "rollout-é✓ 中.jsonl"]) utimesSync(join(c!, n), old, old);
  // Not date folders: names with more than digits, a file where a folder would be, a link to a folder.
  for (const junk of ["2026x", "-1", "1e3", " 1", ".2024"]) mkdirSync(join(root, junk, "01", "01"), { recursive: true });
  writeFileSync(join(root, "2026", "12"), "a file, not a month");
  writeFileSync(join(root, "2024"), "a file, not a year");
  mkdirSync(join(root, "2026", "10"));
  symlinkSync(join(root, "2026", "11"), join(root, "2026", "09"));
  return root;
}

/** The C walk's answer, checked against readdir and stat, the days against digitFolders. */
function check(root: string, got: DatedEntryStats | null, match = ROLLOUTS) {
  expect(got).not.toBeNull();
  expect(got!.days).toEqual(dayFolders(root));
  expect(rows(got!.days, got!)).toEqual(expected(got!.days, match));
  // The newest regular file's row, when no other has its time.
  const regular = Array.from(got!.mode.keys()).filter((k) => (got!.mode[k]! & 0o170000) === 0o100000);
  const top = Math.max(...regular.map((k) => got!.mtimeMs[k]!));
  const newest = regular.filter((k) => got!.mtimeMs[k] === top);
  expect(got!.newest).toBe(newest.length === 1 ? newest[0] : -1);
}

describe.if(linux)("startStatDays (dir-stats.c)", () => {
  test("the date folders newest first, and each matching entry with the stat of its path (links followed, null where stat fails)", async () => {
    const root = tree();
    const got = startStatDaysInC(root, ROLLOUTS)!();
    check(root, got);
    expect(got!.days.slice(0, 3)).toEqual([join(root, "99999999999999999999/1/1"), join(root, "99999999999999999998/12/31"), join(root, "2026/11/05")]);
    expect(got!.days).toContain(join(root, "2026/09/05")); // through the link to a month
    expect(got!.folder.length).toBe(10 + 10 + 10 + 6 + 10); // 2026/11/05 twice (through 09)
    expect(rows(got!.days, got!).filter((r) => r.endsWith(" null")).length).toBe(2);
    // What the listing falls back to gives the same for those folders.
    expect(rows(got!.days, await nodeStatEntries(got!.days, ROLLOUTS))).toEqual(rows(got!.days, got!));
    expect(got!.newest).toBeGreaterThanOrEqual(0);
    expect(got!.name(got!.newest!)).toBe("rollout-29.jsonl");
    // The newest seen twice (its month is also reached through a link): no single newest.
    const later = new Date(Date.UTC(2027, 0, 1));
    utimesSync(join(root, "2026/11/05/rollout-0.jsonl"), later, later);
    const tied = startStatDaysInC(root, ROLLOUTS)!()!;
    check(root, tied);
    expect(tied.newest).toBe(-1);
  });

  test("a date folder with no access has no entries; a missing or file root has no folders", async () => {
    const root = tree();
    const shut = join(root, "2026", "11", "05");
    chmodSync(shut, 0o000);
    try {
      check(root, startStatDaysInC(root, ROLLOUTS)!()); // as root, the folder is read anyway
    } finally {
      chmodSync(shut, 0o700);
    }
    for (const none of [join(root, "missing"), join(root, "2024"), ""]) {
      const got = startStatDaysInC(none, ROLLOUTS)!()!;
      expect(got.days).toEqual([]);
      expect(got.folder.length + got.mode.length + got.mtimeMs.length + got.size.length).toBe(0);
    }
  });

  test("on one thread or many (more than entries, or than the C part takes), the same answer", () => {
    const root = tree();
    for (const threads of [1, 2, 3, 5, 7, 40, 0, -3]) check(root, startStatDaysInC(root, ROLLOUTS, { threads })!());
  });

  test("any prefix and suffix; a NUL is refused before C", () => {
    const root = tree();
    for (const match of [{ prefix: "", suffix: "" }, { prefix: "rollout-1", suffix: "" }, { prefix: "", suffix: ".json" }, { prefix: "none", suffix: "" }]) {
      check(root, startStatDaysInC(root, match)!(), match);
    }
    expect(startStatDaysInC(`${root}\0/x`, ROLLOUTS)).toBeNull();
    expect(startStatDaysInC(root, { prefix: "a\0", suffix: "" })).toBeNull();
  });

  test("many folders and entries (more than any first room): all of them", () => {
    const root = tempDir("ocx-dir-stats-");
    const want: string[] = [];
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 28; d++) {
        const dir = join(root, "2026", String(m).padStart(2, "0"), String(d).padStart(2, "0"));
        mkdirSync(dir, { recursive: true });
        for (let i = 0; i < 12; i++) writeFileSync(join(dir, `rollout-${"n".repeat(100)}-${i}.jsonl`), ""), want.push(dir);
      }
    }
    const got = startStatDaysInC(root, ROLLOUTS, { threads: 3 })!()!;
    expect(got.days.length).toBe(12 * 28);
    expect(got.folder.length).toBe(want.length);
    check(root, got);
  });

  test("walks under way together, each answer taken when wanted, and once; a walk started early is taken by the next of its root", async () => {
    const root = tree();
    const other = tree();
    const first = startStatDays(root, ROLLOUTS)!;
    const second = startStatDaysInC(root, ROLLOUTS, { threads: 3 })!;
    const third = startStatDays(other, ROLLOUTS)!;
    check(other, await third());
    check(root, second());
    expect(() => second()).toThrow("once");
    check(root, await first());
    // Started early, then the tree removed: the walk taken is the early one, which saw it whole.
    startEarly(other, ROLLOUTS);
    await Bun.sleep(200);
    const before = dayFolders(other);
    rmSync(other, { recursive: true, force: true });
    const taken = await startStatDays(other, ROLLOUTS)!();
    expect(taken!.days).toEqual(before);
    expect(taken!.folder.length).toBe(46);
    // The next one looks again.
    expect((await startStatDays(other, ROLLOUTS)!())!.days).toEqual([]);
  });

  test("the answer's memory lives as long as any column or name does", async () => {
    const root = tree();
    const kept: Array<{ mtimeMs: Float64Array; name: (k: number) => string; want: string[] }> = [];
    for (let i = 0; i < 20; i++) {
      const got = startStatDaysInC(root, ROLLOUTS)!()!;
      kept.push({ mtimeMs: got.mtimeMs, name: got.name, want: Array.from(got.mtimeMs, (t, k) => `${got.name(k)} ${t}`) });
    }
    for (let i = 0; i < 5; i++) Bun.gc(true), await Bun.sleep(1);
    for (const k of kept) expect(Array.from(k.mtimeMs, (t, j) => `${k.name(j)} ${t}`)).toEqual(k.want);
  });

  test("and is freed once nothing holds it: 100 answers of about 1 MB each, dropped, leave the memory where it was", async () => {
    const root = tempDir("ocx-dir-stats-");
    const dir = join(root, "2026", "01", "01");
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 4000; i++) writeFileSync(join(dir, `rollout-${"n".repeat(200)}-${i}.jsonl`), "");
    const settle = async () => {
      for (let i = 0; i < 3; i++) Bun.gc(true), await Bun.sleep(5);
      return process.memoryUsage().rss;
    };
    let sum = 0;
    const walk = () => {
      const got = startStatDaysInC(root, ROLLOUTS, { threads: 2 })!()!;
      sum += got.folder.length + got.name(0).length;
    };
    for (let i = 0; i < 10; i++) walk();
    const before = await settle();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 10; i++) walk();
      await settle();
    }
    const grown = (await settle()) - before;
    expect(sum).toBeGreaterThan(100 * 4000);
    // Kept, the answers would hold about 100 MB (4000 names of 220 bytes and their stats, each).
    expect(grown).toBeLessThan(50 * 1024 * 1024);
  }, 60_000);
});

test("the entry starts the walk for `exec resume --last`, `exec fork --last` and `sessions` alone, in CODEX_HOME's sessions folder", () => {
  const root = (args: string[], env: Record<string, string> = { HOME: "/home/u" }) => sessionsToWalk(args, env, () => "/work");
  expect(root(["exec", "resume", "--last", "go on"])).toBe("/home/u/.codex/sessions");
  expect(root(["e", "--json", "fork", "--last"], { CODEX_HOME: "/ch" })).toBe("/ch/sessions");
  expect(root(["sessions", "--all"])).toBe("/home/u/.codex/sessions");
  expect(root(["exec", "resume", "--last"], { CODEX_HOME: "rel/ch", HOME: "/home/u" })).toBe("/work/rel/ch/sessions");
  expect(root(["exec", "resume", "--last"], {})).toBeNull(); // nowhere known: the command finds out
  for (const args of [["exec", "resume", "0198c6a4-0000-7000-8000-000000000000"], ["exec", "--last"], ["exec", "resume"], ["login", "resume", "--last"], ["--version"], ["--last", "exec", "resume"], []]) {
    expect(root(args)).toBeNull();
  }
});

describe("startStatEntries through node:fs", () => {
  test("each matching entry with the stat of its path; no folders, or no match, is nothing", async () => {
    const root = tree();
    const dirs = [...dayFolders(root), join(root, "2024"), join(root, "missing")];
    for (const match of [ROLLOUTS, { prefix: "", suffix: "" }, { prefix: "none", suffix: "" }]) {
      expect(rows(dirs, await nodeStatEntries(dirs, match))).toEqual(expected(dirs, match));
    }
    const none = await nodeStatEntries([], ROLLOUTS);
    expect(none.folder.length + none.mode.length + none.mtimeMs.length + none.size.length).toBe(0);
  });
});
