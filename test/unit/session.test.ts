import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bunRuntime } from "../../src/adapters/bun.ts";
import { findById, findLatest, listRolloutFiles, lookAhead } from "../../src/core/session/find.ts";
import type { EntryMatch } from "../../src/core/runtime.ts";
import { createRedactor } from "../../src/core/redact.ts";
import { closeDanglingCalls, parseRollout, parseRolloutBytes, rolloutRelativePath, RolloutReader, RolloutWriter, threadIdOfFile, type LoadedRollout } from "../../src/core/session/rollout.ts";
import { itemJsonByteLength } from "../../src/core/model/item-json.ts";
import { overridesKey } from "../../src/core/config/overrides.ts";
import { resumedSandbox } from "../../src/core/session/resume.ts";
import type { SandboxMode, SandboxPolicy } from "../../src/core/sandbox/policy.ts";

const runtime = bunRuntime();
const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "ocx-session-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** A UUIDv7 of `ms` without touching idAt(Date.now())'s monotonic state (other tests rely on it). */
let serial = 0;
function idAt(ms: number): string {
  const hex = ms.toString(16).padStart(12, "0");
  const rand = (serial++).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7abc-8def-${rand}`;
}
const line = (type: string, payload: unknown) => JSON.stringify({ timestamp: "t", type, payload });

describe("parseRollout", () => {
  test("collects response items in order, the first meta, the last turn_context, name and first prompt", () => {
    const text = [
      line("session_meta", { id: "a", cwd: "/one" }),
      line("turn_context", { cwd: "/one" }),
      line("event_msg", { type: "user_message", message: "first" }),
      line("response_item", { type: "message", role: "user", content: [] }),
      line("turn_context", { cwd: "/two", model: "m2" }),
      line("event_msg", { type: "user_message", message: "second" }),
      line("event_msg", { type: "thread_name_updated", thread_name: "my thread" }),
      line("response_item", { type: "message", role: "assistant", content: [] }),
      line("world_state", { anything: true }),
    ].join("\n");
    const r = parseRollout(`${text}\n`);
    expect(r.items.map((i) => i.role)).toEqual(["user", "assistant"]);
    expect(r.meta).toMatchObject({ id: "a", cwd: "/one" });
    expect(r.turnContext).toEqual({ cwd: "/two", model: "m2" });
    expect(r.name).toBe("my thread");
    expect(r.firstPrompt).toBe("first");
    expect(r.skipped).toEqual([]);
    expect(r.lines).toBe(9);
  });

  test("a torn last line is reported as last; garbage in the middle as a line number; blank lines ignored", () => {
    const r = parseRollout(`${line("response_item", { type: "message" })}\nnot json\n\n${line("response_item", { type: "x" })}\n{"type":"respo`);
    expect(r.items.map((i) => i.type)).toEqual(["message", "x"]);
    expect(r.skipped).toEqual([
      { line: 2, last: false },
      { line: 5, last: true },
    ]);
  });

  test("a line that is JSON but no object (null, a number, a list) counts as a line and is otherwise ignored", () => {
    const r = parseRollout(`${line("response_item", { type: "message" })}\nnull\n5\n[1]\n${line("response_item", { type: "x" })}\n`);
    expect(r.items.map((i) => i.type)).toEqual(["message", "x"]);
    expect(r.skipped).toEqual([]);
    expect(r.lines).toBe(5);
  });
});

describe("closeDanglingCalls", () => {
  test("a call without an output gets one right after it; answered calls are left alone", () => {
    const items = [
      { type: "function_call", call_id: "a" },
      { type: "function_call_output", call_id: "a", output: "ok" },
      { type: "function_call", call_id: "b" },
      { type: "custom_tool_call", call_id: "c" },
    ];
    const out = closeDanglingCalls(items);
    expect(out.map((i) => `${i.type}:${i.call_id}`)).toEqual([
      "function_call:a",
      "function_call_output:a",
      "function_call:b",
      "function_call_output:b",
      "custom_tool_call:c",
      "custom_tool_call_output:c",
    ]);
    expect(String(out[3]!.output)).toContain("aborted");
  });

  /** The rule, written plainly: every output anywhere answers its call; a call never answered gets one right after it. */
  const oracle = (items: Record<string, unknown>[]) => {
    const answered = new Set(items.filter((i) => (i.type === "function_call_output" || i.type === "custom_tool_call_output") && typeof i.call_id === "string").map((i) => i.call_id));
    const out: Record<string, unknown>[] = [];
    for (const i of items) {
      out.push(i);
      if ((i.type === "function_call" || i.type === "custom_tool_call") && typeof i.call_id === "string" && !answered.has(i.call_id)) {
        out.push({ type: i.type === "function_call" ? "function_call_output" : "custom_tool_call_output", call_id: i.call_id, output: "aborted: ocx stopped before this call finished; its result is unknown" });
        answered.add(i.call_id);
      }
    }
    return out;
  };

  test("what the reader noted of the calls while reading gives what a pass over the items gives (outputs before calls, repeated ids, compacted history)", () => {
    const id = fc.oneof(fc.constantFrom("a", "b", "c", "d"), fc.constant(7), fc.constant(undefined));
    const item = fc.record({ type: fc.constantFrom("function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output", "message"), call_id: id });
    const entry = fc.oneof(
      { weight: 8, arbitrary: item.map((payload) => ({ type: "response_item", payload })) },
      { weight: 1, arbitrary: fc.array(item, { maxLength: 4 }).map((replacement_history) => ({ type: "compacted", payload: { message: "s", replacement_history } })) },
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
        const text = [{ type: "session_meta", payload: { id: "019a9f3c-1c00-7abc-8def-0123456789ab" } }, ...entries].map((e) => JSON.stringify(e)).join("\n");
        for (const loaded of [parseRollout(text), parseRolloutBytes(new TextEncoder().encode(text))]) {
          const expected = oracle(loaded.items as Record<string, unknown>[]);
          expect(closeDanglingCalls(loaded.items, loaded.calls)).toEqual(expected as never);
          expect(closeDanglingCalls(loaded.items)).toEqual(expected as never);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("file names and the writer", () => {
  test("rollout path in local time of the given zone; the id is read back from the name", () => {
    const ms = Date.UTC(2026, 0, 31, 23, 30, 5);
    const id = idAt(ms);
    expect(rolloutRelativePath(ms, "UTC", id)).toBe(`sessions/2026/01/31/rollout-2026-01-31T23-30-05-${id}.jsonl`);
    expect(rolloutRelativePath(ms, "Asia/Tokyo", id)).toBe(`sessions/2026/02/01/rollout-2026-02-01T08-30-05-${id}.jsonl`);
    expect(threadIdOfFile(`rollout-2026-01-31T23-30-05-${id}.jsonl`)).toBe(id);
    expect(threadIdOfFile("notes.jsonl")).toBeNull();
  });

  test("writes numbered lines and redacts secrets in their JSON-escaped form; short strings are not secrets", () => {
    const path = join(temp(), "r.jsonl");
    const w = new RolloutWriter(runtime, path, createRedactor(() => ["sk-secret-\"quoted\"-value", "abc", undefined]), 5);
    w.item({ type: "message", content: 'the key is sk-secret-"quoted"-value, abc stays' });
    w.event({ type: "agent_message", message: "x" });
    const ls = Bun.file(path).text();
    return ls.then((text) => {
      const parsed = text.trim().split("\n").map((l) => JSON.parse(l));
      expect(parsed.map((p) => p.ordinal)).toEqual([5, 6]);
      expect(parsed[0].payload.content).toBe("the key is [REDACTED], abc stays");
      expect(text).not.toContain("sk-secret");
    });
  });

  test("the file is opened once and written line by line, in order, each line on disk at once", () => {
    const path = join(temp(), "r.jsonl");
    let opens = 0;
    const counting = { ...runtime, fs: { ...runtime.fs, openAppendSync: (p: string) => (opens++, runtime.fs.openAppendSync!(p)) } };
    const w = new RolloutWriter(counting, path, createRedactor());
    for (let i = 0; i < 5; i++) {
      w.event({ type: "agent_message", message: `m${i}` });
      expect(readFileSync(path, "utf8").trim().split("\n")).toHaveLength(i + 1);
    }
    expect(opens).toBe(1);
    expect(readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l).payload.message)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    w.close();
  });

  test("a held writer touches no file until release(), then writes every held line in order in one write", () => {
    const dir = join(temp(), "not-yet");
    const path = join(dir, "r.jsonl");
    let writes = 0;
    const counting = {
      ...runtime,
      fs: { ...runtime.fs, openAppendSync: (p: string) => { const h = runtime.fs.openAppendSync!(p); return { appendLines: (lines: readonly string[]) => (writes++, h.appendLines(lines)), close: () => h.close() }; } },
    };
    const w = new RolloutWriter(counting, path, createRedactor(() => ["sk-held-secret-1"]), 0, undefined, { held: true });
    w.write("session_meta", { id: "x" });
    w.event({ type: "agent_message", message: "key sk-held-secret-1" });
    // Not even its folder exists yet: nothing was written.
    expect(() => statSync(dir)).toThrow();
    mkdirSync(dir);
    w.release();
    expect(writes).toBe(1);
    w.event({ type: "agent_message", message: "after" });
    expect(writes).toBe(2);
    const lines = readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.ordinal, l.type])).toEqual([[0, "session_meta"], [1, "event_msg"], [2, "event_msg"]]);
    expect(lines[1].payload.message).toBe("key [REDACTED]");
    w.close();
  });

  test("an abandoned held writer drops its lines and every later one, and creates nothing", () => {
    const path = join(temp(), "r.jsonl");
    const w = new RolloutWriter(runtime, path, createRedactor(), 0, undefined, { held: true });
    w.write("session_meta", { id: "x" });
    expect(w.saving).toBe(true);
    w.abandon();
    w.release();
    w.event({ type: "agent_message", message: "later" });
    expect(w.saving).toBe(false);
    expect(() => statSync(path)).toThrow();
  });

  test("a write that fails after the first line warns once and stops writing", () => {
    const dir = temp();
    const path = join(dir, "r.jsonl");
    const warnings: string[] = [];
    const w = new RolloutWriter(runtime, path, createRedactor(), 0, (m) => warnings.push(m));
    w.write("session_meta", { id: "x" });
    rmSync(dir, { recursive: true, force: true });
    w.item({ type: "message" });
    w.item({ type: "message" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("not saved");
  });
});

describe("finding sessions", () => {
  /** The runtime without its batched folder reads and stats: one readDir and stat per file. */
  const plain = { ...runtime, fs: { ...runtime.fs, readDirs: undefined, startStatEntries: undefined, startStatDays: undefined } };
  function home() {
    const h = temp();
    const put = (ms: number, cwd: string, opts: { name?: string; mtime?: number; big?: boolean } = {}) => {
      const id = idAt(ms);
      const rel = rolloutRelativePath(ms, runtime.timeZone(), id);
      const path = join(h, rel);
      mkdirSync(join(path, ".."), { recursive: true });
      const filler = opts.big ? `${line("response_item", { type: "message", content: "x".repeat(300_000) })}\n` : "";
      writeFileSync(path, `${line("session_meta", { id, cwd, ...(opts.name ? { name: opts.name } : {}) })}\n${line("turn_context", { cwd })}\n${filler}`);
      if (opts.mtime) utimesSync(path, new Date(opts.mtime), new Date(opts.mtime));
      return { id, path };
    };
    return { h, put };
  }

  test("findById looks in the id's own date folder, and finds files filed elsewhere too", async () => {
    const { h, put } = home();
    const a = put(Date.UTC(2026, 3, 2, 12), "/w");
    const id = idAt(Date.UTC(2025, 0, 1));
    const odd = join(h, "sessions", "2026", "07", "09", `rollout-2026-07-09T00-00-00-${id}.jsonl`);
    mkdirSync(join(odd, ".."), { recursive: true });
    writeFileSync(odd, `${line("session_meta", { id, cwd: "/w" })}\n`);
    expect(await findById(runtime, h, a.id)).toBe(a.path);
    expect(await findById(runtime, h, a.id.toUpperCase())).toBe(a.path);
    expect(await findById(runtime, h, id)).toBe(odd);
    expect(await findById(runtime, h, idAt(Date.now()))).toBeNull();
  });

  test("findLatest: the most recently updated in this directory (not the newest created), --all, by name", async () => {
    const { h, put } = home();
    const base = Date.UTC(2026, 4, 1);
    const older = put(base, "/here", { mtime: base + 50_000 }); // created first, updated last
    put(base + 10_000, "/here", { mtime: base + 20_000 });
    const elsewhere = put(base + 20_000, "/there", { mtime: base + 60_000, name: "named one" });
    expect((await findLatest(runtime, h, { cwd: "/here", all: false }))?.id).toBe(older.id);
    expect((await findLatest(runtime, h, { cwd: "/here", all: true }))?.id).toBe(elsewhere.id);
    expect((await findLatest(runtime, h, { cwd: "/here", all: false, name: "named one" }))).toBeNull();
    expect((await findLatest(runtime, h, { cwd: "/here", all: true, name: "named one" }))?.id).toBe(elsewhere.id);
    expect(await findLatest(runtime, h, { cwd: "/nowhere", all: false })).toBeNull();
    expect((await listRolloutFiles(runtime, h)).map((f) => f.id)).toEqual([elsewhere.id, older.id, expect.any(String)]);
  });

  test.each([
    ["one newest", [7, 3, 7, 1, 9, 3, 3, 12, 7, 0, 9, 5]],
    ["the newest time shared", [7, 3, 12, 1, 9, 3, 3, 12, 7, 0, 9, 12]],
  ])("newest first: the order of a full stable sort by time (ties in listing order), junk names left out, however far one reads (%s)", async (_, times) => {
    const { h, put } = home();
    const base = Date.UTC(2026, 3, 1);
    // 12 files, several sharing a time, created in another order than updated.
    const made = times.map((t, i) => put(base + i * 3_600_000, i % 2 ? "/a" : "/b", { mtime: base + t * 60_000 }));
    writeFileSync(join(made[0]!.path, "..", "rollout-junk.jsonl"), "{}\n");
    const { statSync } = await import("node:fs");
    const expected = (await listRolloutFiles(plain, h)).map((f) => f.path);
    const listed = (await listRolloutFiles(runtime, h)).map((f) => f.path);
    expect(listed).toEqual(expected);
    expect(listed.length).toBe(12);
    // The order itself, from the files' own times: descending, a tie kept in listing order.
    const mtimes = listed.map((p) => statSync(p).mtimeMs);
    for (let i = 1; i < mtimes.length; i++) expect(mtimes[i - 1]!).toBeGreaterThanOrEqual(mtimes[i]!);
    const { rolloutFilesNewestFirst } = await import("../../src/core/session/find.ts");
    const stableSorted = [...listed].sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs);
    expect(listed).toEqual(stableSorted);
    // Taking only the first few (as --last does) gives the same first few.
    for (const k of [1, 2, 4, 5, 12]) {
      const got: string[] = [];
      for (const f of await rolloutFilesNewestFirst(runtime, h)) {
        if (got.length === k) break;
        got.push(f.path);
      }
      expect(got).toEqual(listed.slice(0, k));
    }
  });

  test("summarize reads both ends of a file through one handle: what a line appended since the listing says counts, and no handle is left open", async () => {
    const { h, put } = home();
    const small = put(Date.UTC(2026, 4, 1), "/before");
    const big = put(Date.UTC(2026, 4, 2), "/before", { big: true });
    const { summarize } = await import("../../src/core/session/find.ts");
    const listed = await listRolloutFiles(runtime, h);
    const { appendFileSync, readdirSync } = await import("node:fs");
    // Lines appended after the stat (a run that resumed the thread meanwhile): a small file is
    // read past its listed size; the large one's tail window (where the listing put it) holds no
    // turn_context, so the whole file is read, the new line too.
    for (const f of [small, big]) appendFileSync(f.path, `${line("turn_context", { cwd: "/after" })}\n`);
    const fds = () => readdirSync("/proc/self/fd").length;
    const open = fds();
    const byId = (id: string) => listed.find((f) => f.id === id)!;
    const noHandles = { ...runtime, fs: { ...runtime.fs, openReadSync: undefined } };
    for (const rt of [runtime, noHandles]) {
      expect((await summarize(rt, byId(small.id))).cwd).toBe("/after");
      const b = await summarize(rt, byId(big.id));
      expect([b.cwd, b.meta?.id]).toEqual(["/after", big.id]);
    }
    expect(fds()).toBe(open);
    // A file gone since the listing fails as it did before, with nothing left open.
    rmSync(small.path);
    for (const rt of [runtime, noHandles]) expect(summarize(rt, byId(small.id))).rejects.toThrow();
    expect(fds()).toBe(open);
  });

  test("a last turn bigger than the tail window is still found (whole-file fallback)", async () => {
    const { h, put } = home();
    const big = put(Date.UTC(2026, 5, 1), "/big", { big: true });
    expect((await findLatest(runtime, h, { cwd: "/big", all: false }))?.id).toBe(big.id);
  });

  test("a hostile tree: batched folder reads and stats give what one call each gives (junk names, symlinks, loops, unreadable folders)", async () => {
    const { h, put } = home();
    const base = Date.UTC(2026, 6, 1);
    const a = put(base, "/here", { mtime: base + 5_000 });
    const b = put(base + 86_400_000, "/here", { mtime: base + 1_000 });
    const c = put(base + 2 * 86_400_000, "/there", { mtime: base + 9_000 });
    const s = join(h, "sessions");
    const { symlinkSync, chmodSync } = await import("node:fs");
    for (const d of ["01", "02", "03"]) mkdirSync(join(s, "2026", "07", d), { recursive: true });
    // Junk next to real folders and files.
    mkdirSync(join(s, "2026", "07", "junk"), { recursive: true });
    mkdirSync(join(s, "notayear", "01", "01"), { recursive: true });
    writeFileSync(join(s, "2026", "07", "01", "rollout-x.jsonl"), "{}\n");
    writeFileSync(join(s, "2026", "07", "01", `rollout-2026-07-01T00-00-00-${idAt(base)}.json`), "{}\n");
    writeFileSync(join(s, "2026", "07", "01", `rollout-2026-07-01T00-00-00-${idAt(base).toUpperCase()}.jsonl`), "{}\n");
    writeFileSync(join(s, "2026", "07", "01", `rollout-2026-07-01T00-00-00_${idAt(base + 1)}.jsonl`), "{}\n");
    mkdirSync(join(s, "2026", "07", "01", `rollout-2026-07-01T00-00-00-${idAt(base + 2)}.jsonl`));
    // A dangling symlink, a symlink loop, a symlink to a real rollout, a year that is a file.
    symlinkSync(join(s, "nowhere"), join(s, "2026", "07", "02", `rollout-2026-07-02T00-00-00-${idAt(base + 3)}.jsonl`));
    const loop = join(s, "2026", "07", "02", `rollout-2026-07-02T00-00-00-${idAt(base + 4)}.jsonl`);
    symlinkSync(loop, loop);
    const link = join(s, "2026", "07", "03", `rollout-2026-07-03T00-00-00-${idAt(base + 5)}.jsonl`);
    symlinkSync(a.path, link);
    writeFileSync(join(s, "2025"), "not a folder");
    mkdirSync(join(s, "2026", "08", "01"), { recursive: true });
    writeFileSync(join(s, "2026", "08", "01", `rollout-2026-08-01T00-00-00-${idAt(base + 6)}.jsonl`), "{}\n");
    chmodSync(join(s, "2026", "08", "01"), 0o000);
    try {
      // The three ways: the date folders walked and stat'ed in C (startStatDays, Linux), listed
      // here with each folder's stats in one call, and one readDir and stat per file.
      const listedHere = { ...runtime, fs: { ...runtime.fs, startStatDays: undefined } };
      if (process.platform === "linux") expect(runtime.fs.startStatDays).toBeDefined();
      expect(runtime.fs.readDirs && runtime.fs.startStatEntries).toBeDefined();
      const batched = await listRolloutFiles(runtime, h);
      expect(batched).toEqual(await listRolloutFiles(plain, h));
      expect(batched).toEqual(await listRolloutFiles(listedHere, h));
      expect(batched.map((f) => f.id)).toContain(c.id);
      expect(batched.map((f) => f.id)).toContain(b.id);
      for (const opts of [{ cwd: "/here", all: false }, { cwd: "/there", all: false }, { cwd: "/here", all: true }, { cwd: "/none", all: false }]) {
        expect(await findLatest(runtime, h, opts)).toEqual(await findLatest(plain, h, opts));
      }
      // The newest in /here: `a`, or the symlink to it (same time; its folder is newer).
      expect((await findLatest(runtime, h, { cwd: "/here", all: false }))?.path).toBe(link);
    } finally {
      chmodSync(join(s, "2026", "08", "01"), 0o700);
    }
  });

  test("threadIdOfFile reads the id the way a search from the end would", () => {
    const id = idAt(Date.UTC(2026, 0, 1));
    const search = (name: string) => /-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(name)?.[1]!.toLowerCase() ?? null;
    for (const name of [
      `rollout-2026-01-01T00-00-00-${id}.jsonl`,
      `/a/b/rollout-x-${id.toUpperCase()}.jsonl`,
      `-${id}.jsonl`,
      `${id}.jsonl`,
      `x_${id}.jsonl`,
      `-${id}.jsonl.bak`,
      `-${id}x.jsonl`,
      `-${id.slice(1)}.jsonl`,
      `-${id.replace(/-/g, "_")}.jsonl`,
      `--${id}.jsonl`,
      `-${id}.JSONL`,
      `.jsonl`,
      "",
    ]) {
      expect(threadIdOfFile(name)).toBe(search(name));
    }
  });

  test("a file gone between the listing and its reading (another process removed it) is passed over", async () => {
    for (const rt of [runtime, plain]) {
      const { h, put } = home();
      const base = Date.UTC(2026, 8, 3);
      const older = put(base, "/here", { mtime: base + 1_000 });
      const gone = put(base + 1, "/here", { mtime: base + 2_000 });
      await lookAhead(rt, h);
      // (the listing is taken by the findLatest below; by then the file is gone)
      await Bun.sleep(50);
      rmSync(gone.path);
      expect((await findLatest(rt, h, { cwd: "/here", all: false }))?.id).toBe(older.id);
    }
  });

  test("a lookup started ahead (lookAhead) is what the next findLatest of that home finds; the one after looks again", async () => {
    for (const rt of [runtime, plain]) {
      const { h, put } = home();
      const base = Date.UTC(2026, 8, 1);
      const a = put(base, "/here", { mtime: base + 1_000 });
      put(base + 1, "/there", { mtime: base + 2_000 });
      await lookAhead(rt, h);
      expect((await findLatest(rt, h, { cwd: "/here", all: false }))?.id).toBe(a.id);
      // Started for another home, and never taken: no harm to this one.
      await lookAhead(rt, temp());
      const b = put(base + 2, "/here", { mtime: base + 3_000 });
      expect((await findLatest(rt, h, { cwd: "/here", all: false }))?.id).toBe(b.id);
    }
    // One scan for the lookup started ahead and the findLatest that takes it.
    let scans = 0;
    const counting = {
      ...runtime,
      fs: {
        ...runtime.fs,
        startStatEntries: (d: readonly string[], m: EntryMatch) => (scans++, runtime.fs.startStatEntries!(d, m)),
        ...(runtime.fs.startStatDays ? { startStatDays: (root: string, m: EntryMatch) => (scans++, runtime.fs.startStatDays!(root, m)) } : {}),
      },
    };
    const { h, put } = home();
    put(Date.UTC(2026, 8, 2), "/here");
    await lookAhead(counting, h);
    expect(await findLatest(counting, h, { cwd: "/here", all: false })).not.toBeNull();
    expect(scans).toBe(1);
    await findLatest(counting, h, { cwd: "/here", all: false });
    expect(scans).toBe(2);
  });

  test("no sessions folder at all is simply nothing found", async () => {
    expect(await findLatest(runtime, temp(), { cwd: "/x", all: true })).toBeNull();
    expect(await findById(runtime, temp(), idAt(Date.now()))).toBeNull();
  });
});

test("overridesKey: -c key=value given on the command line", () => {
  expect(overridesKey(["model=x", " sandbox_mode = 'read-only'"], "sandbox_mode")).toBe(true);
  expect(overridesKey(["model_provider=x"], "model")).toBe(false);
  expect(overridesKey(["model"], "model")).toBe(true);
});

describe("the sandbox of a resumed run", () => {
  /** This run's own policy: `mode` from flags/config (read-only by default), roots /ws and /tmp. */
  const own =
    (mode: SandboxMode = "read-only", network = false, roots = ["/ws", "/tmp"]) =>
    (asked?: SandboxMode): SandboxPolicy => {
      const m = asked ?? mode;
      return { mode: m, writableRoots: m === "workspace-write" ? [...roots] : [], networkAccess: m === "workspace-write" ? network : m === "danger-full-access", bypass: false };
    };
  const base = { networkOverridden: false, cwd: "/ws", cwdFromFile: false, path: "/h/r.jsonl" };

  test("danger-full-access is never taken from the file: this run's own mode, with a warning naming both", () => {
    const r = resumedSandbox({ ...base, recorded: { type: "danger-full-access" }, own: own() });
    expect(r.policy.mode).toBe("read-only");
    expect(r.warning).toBe(
      "the session file /h/r.jsonl records sandbox danger-full-access, which only --sandbox, --dangerously-bypass-approvals-and-sandbox or sandbox_mode in config can grant; this run uses read-only",
    );
    const fromConfig = resumedSandbox({ ...base, recorded: { type: "danger-full-access" }, own: own("danger-full-access") });
    expect(fromConfig).toEqual({ policy: expect.objectContaining({ mode: "danger-full-access" }), warning: undefined });
  });

  test("read-only and workspace-write come back, even over a wider config; roots inside this run's own are kept quietly", () => {
    expect(resumedSandbox({ ...base, recorded: { type: "read-only" }, own: own("danger-full-access") }).policy.mode).toBe("read-only");
    const ww = resumedSandbox({ ...base, recorded: { type: "workspace-write", writable_roots: ["/ws", "/tmp/x"], network_access: false }, own: own() });
    expect(ww).toEqual({ policy: expect.objectContaining({ mode: "workspace-write", writableRoots: ["/ws", "/tmp"], networkAccess: false }), warning: undefined });
  });

  test("roots and network access the file adds are not granted; the file may narrow the network", () => {
    const r = resumedSandbox({ ...base, recorded: { type: "workspace-write", writable_roots: ["/ws", "/", "/etc", "/wsx"], network_access: true }, own: own() });
    expect(r.policy).toMatchObject({ writableRoots: ["/ws", "/tmp"], networkAccess: false });
    expect(r.warning).toBe(
      "the session file /h/r.jsonl records writable roots /, /etc, /wsx and network access, which only flags and config can grant (--add-dir, sandbox_workspace_write); this run does not grant them",
    );
    const netOnly = resumedSandbox({ ...base, recorded: { type: "workspace-write", writable_roots: [], network_access: true }, own: own() });
    expect(netOnly.warning).toEndWith("records network access, which only flags and config can grant (sandbox_workspace_write); this run does not grant it");
    const narrowed = resumedSandbox({ ...base, recorded: { type: "workspace-write", writable_roots: [], network_access: false }, own: own("read-only", true) });
    expect(narrowed.policy.networkAccess).toBe(false);
    const overridden = resumedSandbox({ ...base, networkOverridden: true, recorded: { type: "workspace-write", writable_roots: [], network_access: false }, own: own("read-only", true) });
    expect(overridden).toEqual({ policy: expect.objectContaining({ networkAccess: true }), warning: undefined });
  });

  test("a working directory from the file is a writable root only inside another root of this run", () => {
    // -s workspace-write on the resume: the flags chose the mode, the directory still came from the file.
    const outside = resumedSandbox({ ...base, cwd: "/victim", cwdFromFile: true, own: own("workspace-write", false, ["/victim", "/tmp"]) });
    expect(outside.policy.writableRoots).toEqual(["/tmp"]);
    expect(outside.warning).toContain("records writable roots /victim, which only flags and config can grant (-C, --add-dir, sandbox_workspace_write)");
    const under = resumedSandbox({ ...base, cwd: "/tmp/ws", cwdFromFile: true, recorded: { type: "workspace-write", writable_roots: ["/tmp/ws"], network_access: false }, own: own("read-only", false, ["/tmp/ws", "/tmp"]) });
    expect(under).toEqual({ policy: expect.objectContaining({ writableRoots: ["/tmp/ws", "/tmp"] }), warning: undefined });
  });
});

describe("parseRolloutBytes", () => {
  const enc = new TextEncoder();
  const line = (type: string, payload: unknown) => JSON.stringify({ timestamp: "t", type, payload });
  const good = [
    line("session_meta", { id: "0199a213-81c0-7800-8aa1-bbab2a035a53", cwd: "/w", name: "n €" }),
    line("turn_context", { cwd: "/w", model: "m" }),
    line("response_item", { type: "message", role: "user", content: [{ type: "input_text", text: "héllo 🚀" }] }),
    line("event_msg", { type: "user_message", message: "héllo" }),
  ];
  const cases: Array<[string, Uint8Array]> = [
    ["plain", enc.encode(`${good.join("\n")}\n`)],
    ["no final newline, torn last line", enc.encode(`${good.join("\n")}\n{"type":"resp`)],
    ["a byte order mark at the start", enc.encode(`\uFEFF${good.join("\n")}\n`)],
    ["a byte order mark starting a later line", enc.encode(`${good[0]}\n\uFEFF${good[1]}\n${good[2]}\n`)],
    ["CRLF, blank lines and garbage", enc.encode(`${good[0]}\r\n\n  \nnot json\n${good[2]}\r\n`)],
    ["invalid UTF-8 before a newline", new Uint8Array([...enc.encode(`${good[0]}\n{"a":"`), 0xe2, 0x82, 10, ...enc.encode(`${good[2]}\n`), 0xf0, 0x9f])],
    ["empty", new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    test(`reads like parseRollout of the decoded text: ${name}`, () => {
      expect(parseRolloutBytes(bytes)).toEqual(parseRollout(new TextDecoder().decode(bytes)));
    });
    test(`read in pieces, split anywhere, reads the same: ${name}`, () => {
      const whole = parseRolloutBytes(bytes);
      const kept = (r: LoadedRollout) => r.items.map((i) => itemJsonByteLength(i) ?? null);
      const splits: number[][] = [];
      for (let a = 0; a <= bytes.length; a++) splits.push([a]);
      for (let a = 0; a <= bytes.length; a += 7) for (let b = a; b <= bytes.length; b += 5) splits.push([a, b]);
      splits.push(Array.from({ length: bytes.length }, (_, i) => i));
      // Each piece in one scratch buffer, overwritten with junk once pushed (as readRollout refills
      // its buffers): the reader must keep nothing that points into it.
      const scratch = new Uint8Array(bytes.length + 1);
      for (const cuts of splits) {
        for (const reuse of [false, true]) {
          const reader = new RolloutReader();
          let from = 0;
          for (const c of [...cuts, bytes.length]) {
            if (!reuse) reader.push(bytes.subarray(from, c));
            else {
              scratch.set(bytes.subarray(from, c));
              reader.push(scratch.subarray(0, c - from));
              scratch.fill(0x7b);
            }
            from = c;
          }
          const r = reader.end();
          expect(r).toEqual(whole);
          expect(kept(r)).toEqual(kept(whole));
        }
      }
    });
  }
});
