// Where a run's start-up ends (Runtime.afterStartup: the compiled binary's JIT goes back to its
// normal policy there): a plain run's once its first request is on its way, and only then is its
// rollout written; `resume`, `fork` and `review` end it before reading anything, since reading a
// session (or a diff) can be long work.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runExecCommand } from "../../src/cli/exec.ts";
import type { EntryMatch, Runtime } from "../../src/core/runtime.ts";
import { REFERENCE_THREAD_ID, referenceRollout } from "../fixtures/reference-rollout.ts";
import { reply, startMockResponses } from "../mock/responses-server.ts";
import { fakeRuntime, stdinFrom } from "../support/fake-runtime.ts";
import { filesUnder, useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();

const rolloutsUnder = (dir: string): string[] => filesUnder(dir).filter((p) => p.endsWith(".jsonl"));

/** A home whose config points at `url`, a working directory, and a runtime that logs start-up's end, requests and session reads. */
function setup(url: string) {
  const home = tempDir("ocx-startup-home-");
  const cwd = tempDir("ocx-startup-cwd-");
  writeFileSync(
    join(home, "config.toml"),
    [`model = "gpt-5.5"`, `model_provider = "mock"`, `[model_providers.mock]`, `name = "Mock"`, `base_url = ${JSON.stringify(url)}`, `env_key = "CODEX_API_KEY"`, `wire_api = "responses"`, ""].join("\n"),
  );
  const base = fakeRuntime({ envVars: { CODEX_HOME: home, CODEX_API_KEY: "sk-test-startup-key-1234" }, stdin: stdinFrom(null, { isTTY: true }) });
  const log: string[] = [];
  const sessions = join(home, "sessions");
  const read = (path: string) => {
    if (path.startsWith(sessions)) log.push("session read");
  };
  const runtime: Runtime = {
    ...base,
    cwd: () => cwd,
    // A clock before every time other tests give uuidv7 (its ids increase across this process).
    now: () => Date.UTC(2001, 0, 1),
    afterStartup: () => log.push(`start-up over (rollouts on disk: ${rolloutsUnder(sessions).length})`),
    fetch: ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      log.push("request");
      return base.fetch(input, init);
    }) as typeof fetch,
    fs: {
      ...base.fs,
      readFile: async (path, o) => (read(path), base.fs.readFile(path, o)),
      readRange: async (path, offset, length, into) => (read(path), base.fs.readRange(path, offset, length, into)),
      readDir: async (path) => (read(path), base.fs.readDir(path)),
      ...(base.fs.readDirs ? { readDirs: async (paths: readonly string[]) => (paths.forEach(read), base.fs.readDirs!(paths)) } : {}),
      ...(base.fs.startStatEntries
        ? { startStatEntries: async (dirs: readonly string[], match: EntryMatch) => (dirs.forEach(read), base.fs.startStatEntries!(dirs, match)) }
        : {}),
      ...(base.fs.startStatDays ? { startStatDays: async (root: string, match: EntryMatch) => (read(`${root}/`), base.fs.startStatDays!(root, match)) } : {}),
      ...(base.fs.openReadSync ? { openReadSync: (path: string) => (read(path), base.fs.openReadSync!(path)) } : {}),
    },
  };
  return { home, cwd, runtime, log, sessions, stderr: base.stderr };
}

describe("the end of start-up", () => {
  test("a run's comes once its first request is on its way, and its rollout is written after it", async () => {
    const mock = await startMockResponses([reply("done")]);
    try {
      const { runtime, log, sessions, stderr } = setup(mock.url);
      const code = await runExecCommand(runtime, ["--json", "--skip-git-repo-check", "hi"]);
      expect(stderr.text()).toBe("");
      expect(code).toBe(0);
      expect(log).toEqual(["request", "start-up over (rollouts on disk: 0)"]);
      expect(rolloutsUnder(sessions)).toHaveLength(1);
    } finally {
      await mock.close();
    }
  });

  test("`exec resume --last` ends it before any session is read", async () => {
    const mock = await startMockResponses([reply("resumed")]);
    try {
      const { runtime, log, sessions, cwd, stderr } = setup(mock.url);
      const dir = join(sessions, "2026", "11", "20");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `rollout-2026-11-20T10-00-00-${REFERENCE_THREAD_ID}.jsonl`), referenceRollout(cwd, "mock"));
      const code = await runExecCommand(runtime, ["resume", "--last", "--json", "--skip-git-repo-check", "go on"]);
      expect(stderr.text()).toBe("");
      expect(code).toBe(0);
      expect(log[0]).toBe("start-up over (rollouts on disk: 1)");
      expect(log).toContain("session read");
      expect(log.filter((l) => l.startsWith("start-up over"))).toHaveLength(2);
      expect(mock.requests).toHaveLength(1);
    } finally {
      await mock.close();
    }
  });
});
