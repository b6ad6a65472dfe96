import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentsMessage, loadProjectDocs, truncateUtf8 } from "../../src/core/prompt/project-docs.ts";
import { discoverHooks } from "../../src/core/hooks/config.ts";
import { gitRoot } from "../../src/core/workspace.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";

const SEP = "\n\n--- project-doc ---\n\n";
const rt = fakeRuntime();

let tmp: string;
let home: string; // CODEX_HOME
let repo: string; // git root
let sub: string;
let deeper: string; // cwd in most tests

function write(path: string, text: string | Uint8Array): void {
  writeFileSync(path, text);
}

beforeEach(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "ocx-project-docs-")));
  home = join(tmp, "home");
  repo = join(tmp, "repo");
  sub = join(repo, "sub");
  deeper = join(sub, "deeper");
  mkdirSync(home, { recursive: true });
  mkdirSync(deeper, { recursive: true });
  const init = Bun.spawnSync(["git", "init", "-q", repo]);
  expect(init.exitCode).toBe(0);
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test("one file per directory from the git root down to the cwd; an override wins in its directory", async () => {
  write(join(repo, "AGENTS.md"), "root rules\n");
  write(join(sub, "AGENTS.md"), "sub rules\n");
  write(join(sub, "AGENTS.override.md"), "sub override\n");
  write(join(deeper, "AGENTS.md"), "deeper rules\n");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(docs.text).toBe(["root rules", "sub override", "deeper rules"].join(SEP));
  expect(docs.files).toEqual([join(repo, "AGENTS.md"), join(sub, "AGENTS.override.md"), join(deeper, "AGENTS.md")]);
  expect(docs.warnings).toEqual([]);
});

test("directories above the git root are not searched", async () => {
  write(join(tmp, "AGENTS.md"), "outside the repo\n");
  write(join(deeper, "AGENTS.md"), "deeper rules\n");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(docs.text).toBe("deeper rules");
  expect(docs.files).toEqual([join(deeper, "AGENTS.md")]);
});

test("a relative cwd is resolved against the runtime's cwd", async () => {
  write(join(repo, "AGENTS.md"), "root rules");
  write(join(sub, "AGENTS.md"), "sub rules");
  const docs = await loadProjectDocs(fakeRuntime({ cwd: () => repo }), { cwd: "sub", codexHome: home });
  expect(docs.text).toBe(`root rules${SEP}sub rules`);
});

test("the global AGENTS.md comes first", async () => {
  write(join(home, "AGENTS.md"), "global rules\n");
  write(join(repo, "AGENTS.md"), "root rules\n");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(docs.text).toBe(`global rules${SEP}root rules`);
  expect(docs.files).toEqual([join(home, "AGENTS.md"), join(repo, "AGENTS.md")]);
});

test("the global override wins over the global AGENTS.md, unless it is blank", async () => {
  write(join(home, "AGENTS.md"), "global rules");
  write(join(home, "AGENTS.override.md"), "global override");
  let docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(docs.text).toBe("global override");
  expect(docs.files).toEqual([join(home, "AGENTS.override.md")]);

  write(join(home, "AGENTS.override.md"), "  \n\t\n");
  docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(docs.text).toBe("global rules");
  expect(docs.files).toEqual([join(home, "AGENTS.md")]);
});

test("fallback filenames are tried in order after AGENTS.override.md and AGENTS.md", async () => {
  write(join(repo, "AGENTS.md"), "root agents");
  write(join(repo, "CLAUDE.md"), "root claude"); // loses to AGENTS.md
  write(join(sub, "GUIDE.md"), "sub guide");
  write(join(sub, "CLAUDE.md"), "sub claude"); // first fallback wins
  write(join(deeper, "GUIDE.md"), "deeper guide"); // only the second fallback exists
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, fallbackFilenames: ["CLAUDE.md", "GUIDE.md"] });
  expect(docs.text).toBe(["root agents", "sub claude", "deeper guide"].join(SEP));
  expect(docs.files).toEqual([join(repo, "AGENTS.md"), join(sub, "CLAUDE.md"), join(deeper, "GUIDE.md")]);

  const without = await loadProjectDocs(rt, { cwd: deeper, codexHome: home });
  expect(without.text).toBe("root agents");
});

test("the byte cap truncates the file that crosses it and drops later ones; the global file is not counted", async () => {
  write(join(home, "AGENTS.md"), "G".repeat(100));
  write(join(repo, "AGENTS.md"), "0123456789"); // 10 bytes
  write(join(sub, "AGENTS.md"), "abcdefghij"); // crosses the cap at 15
  write(join(deeper, "AGENTS.md"), "dropped");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, maxBytes: 15 });
  expect(docs.text).toBe(["G".repeat(100), "0123456789", "abcde"].join(SEP));
  expect(docs.files).toEqual([join(home, "AGENTS.md"), join(repo, "AGENTS.md"), join(sub, "AGENTS.md")]);
});

test("a file that exactly fills the cap is kept whole and later files are dropped", async () => {
  write(join(repo, "AGENTS.md"), "0123456789");
  write(join(sub, "AGENTS.md"), "dropped");
  const docs = await loadProjectDocs(rt, { cwd: sub, codexHome: home, maxBytes: 10 });
  expect(docs.text).toBe("0123456789");
  expect(docs.files).toEqual([join(repo, "AGENTS.md")]);
});

test("the default cap is 32 KiB", async () => {
  write(join(repo, "AGENTS.md"), "x".repeat(40_000));
  write(join(sub, "AGENTS.md"), "dropped");
  const docs = await loadProjectDocs(rt, { cwd: sub, codexHome: home });
  expect(docs.text).toBe("x".repeat(32 * 1024));
  expect(docs.files).toEqual([join(repo, "AGENTS.md")]);
});

test("maxBytes 0 disables project docs but keeps the global file", async () => {
  write(join(repo, "AGENTS.md"), "root rules");
  write(join(deeper, "AGENTS.md"), "deeper rules");
  let docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, maxBytes: 0 });
  expect(docs).toEqual({ text: undefined, files: [], warnings: [] });

  write(join(home, "AGENTS.md"), "global rules");
  docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, maxBytes: 0 });
  expect(docs.text).toBe("global rules");
  expect(docs.files).toEqual([join(home, "AGENTS.md")]);
});

test("outside a git repository only the cwd itself is considered", async () => {
  const outer = join(tmp, "plain");
  const inner = join(outer, "inner");
  mkdirSync(inner, { recursive: true });
  expect(await gitRoot(rt, inner)).toBeNull(); // precondition: no repository above the temp dir
  write(join(outer, "AGENTS.md"), "parent rules");
  write(join(inner, "AGENTS.md"), "cwd rules");
  const docs = await loadProjectDocs(rt, { cwd: inner, codexHome: home });
  expect(docs.text).toBe("cwd rules");
  expect(docs.files).toEqual([join(inner, "AGENTS.md")]);
});

test("a git root that does not hold the cwd: only the cwd is searched, as hooks search .codex/ (no walk up to /)", async () => {
  const outer = join(tmp, "plain");
  const inner = join(outer, "inner");
  mkdirSync(inner, { recursive: true });
  write(join(outer, "AGENTS.md"), "parent rules");
  write(join(inner, "AGENTS.md"), "cwd rules");
  mkdirSync(join(outer, ".codex"), { recursive: true });
  mkdirSync(join(inner, ".codex"), { recursive: true });
  const hooksJson = (command: string) => JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command }] }] } });
  writeFileSync(join(outer, ".codex", "hooks.json"), hooksJson("parent hook"));
  writeFileSync(join(inner, ".codex", "hooks.json"), hooksJson("cwd hook"));
  const docs = await loadProjectDocs(rt, { cwd: inner, gitRoot: repo, codexHome: home });
  expect(docs.files).toEqual([join(inner, "AGENTS.md")]);
  const hooks = await discoverHooks(rt, { codexHome: home, userHooks: undefined, gitRoot: repo, cwd: inner, warn: () => {} });
  expect(hooks.map((h) => h.command)).toEqual(["cwd hook"]);
});

test("the git root is where git would find a repository: an empty .git (a sandbox placeholder) is passed over, a gitfile counts", async () => {
  const repo = join(tmp, "rootcheck");
  const inner = join(repo, "a", "b");
  mkdirSync(join(repo, ".git"), { recursive: true });
  writeFileSync(join(repo, ".git", "HEAD"), "ref: refs/heads/main\n");
  mkdirSync(join(inner, ".git"), { recursive: true }); // empty: not a repository
  expect(await gitRoot(rt, inner)).toBe(repo);
  writeFileSync(join(repo, "a", ".git"), "gitdir: /elsewhere/.git/worktrees/a\n"); // a worktree's gitfile
  expect(await gitRoot(rt, inner)).toBe(join(repo, "a"));
});

test("a directory named AGENTS.md is skipped with a warning and the next name is tried", async () => {
  mkdirSync(join(sub, "AGENTS.md"));
  write(join(sub, "NOTES.md"), "sub notes");
  write(join(repo, "AGENTS.md"), "root rules");
  const docs = await loadProjectDocs(rt, { cwd: sub, codexHome: home, fallbackFilenames: ["NOTES.md"] });
  expect(docs.text).toBe(`root rules${SEP}sub notes`);
  expect(docs.files).toEqual([join(repo, "AGENTS.md"), join(sub, "NOTES.md")]);
  expect(docs.warnings).toHaveLength(1);
  expect(docs.warnings[0]).toContain(join(sub, "AGENTS.md"));
});

test("empty and whitespace-only files are skipped and do not use the cap", async () => {
  write(join(repo, "AGENTS.override.md"), "");
  write(join(repo, "AGENTS.md"), "root rules");
  write(join(sub, "AGENTS.md"), " \n\n \n");
  write(join(deeper, "AGENTS.md"), "deeper");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, maxBytes: 16 });
  expect(docs.text).toBe(`root rules${SEP}deeper`);
  expect(docs.files).toEqual([join(repo, "AGENTS.md"), join(deeper, "AGENTS.md")]);
  expect(docs.warnings).toEqual([]);
});

test("no docs anywhere gives undefined text", async () => {
  expect(await loadProjectDocs(rt, { cwd: deeper, codexHome: home })).toEqual({ text: undefined, files: [], warnings: [] });
});

test("a multi-byte UTF-8 character at the cap is not split", async () => {
  write(join(repo, "AGENTS.md"), "ab€cd"); // € is 3 bytes: a b [e2 82 ac] c d
  write(join(sub, "AGENTS.md"), "dropped");
  for (const [maxBytes, expected] of [
    [2, "ab"],
    [3, "ab"],
    [4, "ab"],
    [5, "ab€"],
    [6, "ab€c"],
  ] as const) {
    const docs = await loadProjectDocs(rt, { cwd: sub, codexHome: home, maxBytes });
    expect(docs.text).toBe(expected);
    expect(docs.files).toEqual([join(repo, "AGENTS.md")]);
  }
});

test("a cut that leaves nothing of the crossing file still drops the later files", async () => {
  write(join(repo, "AGENTS.md"), "abc");
  write(join(sub, "AGENTS.md"), "€uro");
  write(join(deeper, "AGENTS.md"), "d");
  const docs = await loadProjectDocs(rt, { cwd: deeper, codexHome: home, maxBytes: 5 });
  expect(docs.text).toBe("abc");
  expect(docs.files).toEqual([join(repo, "AGENTS.md")]);
});

test("truncateUtf8 backs off to a character boundary", () => {
  const bytes = new TextEncoder().encode("a😀b"); // 1 + 4 + 1 bytes
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  expect(dec(truncateUtf8(bytes, 1))).toBe("a");
  expect(dec(truncateUtf8(bytes, 2))).toBe("a");
  expect(dec(truncateUtf8(bytes, 4))).toBe("a");
  expect(dec(truncateUtf8(bytes, 5))).toBe("a😀");
  expect(dec(truncateUtf8(bytes, 6))).toBe("a😀b");
  expect(dec(truncateUtf8(bytes, 100))).toBe("a😀b");
  expect(truncateUtf8(bytes, 0)).toHaveLength(0);
});

test("symlinked directories and files are read through", async () => {
  const elsewhere = join(tmp, "elsewhere");
  mkdirSync(elsewhere);
  write(join(elsewhere, "shared.md"), "linked rules");
  symlinkSync(join(elsewhere, "shared.md"), join(repo, "AGENTS.md"));
  const linkedDir = join(tmp, "linked-dir");
  mkdirSync(linkedDir);
  write(join(linkedDir, "AGENTS.md"), "linked dir rules");
  symlinkSync(linkedDir, join(sub, "link"));
  const cwd = join(sub, "link");
  const docs = await loadProjectDocs(rt, { cwd, codexHome: home });
  expect(docs.text).toBe(`linked rules${SEP}linked dir rules`);
  expect(docs.files).toEqual([join(repo, "AGENTS.md"), join(cwd, "AGENTS.md")]);
});

test("agentsMessage wraps the joined docs for the user message", () => {
  expect(agentsMessage(`one${SEP}two`, "/work/app")).toBe(
    "# AGENTS.md instructions for /work/app\n\n<INSTRUCTIONS>\none\n\n--- project-doc ---\n\ntwo\n</INSTRUCTIONS>",
  );
});
