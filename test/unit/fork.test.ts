// `exec fork`, run in this process against the mock model, with a file system that sees every
// read of the source rollout: the source is read once, so the fork's file is a copy of the very
// lines whose history the fork re-sends, even when the source grows meanwhile (a `resume` of the
// source appending a turn).
import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execOptions } from "../../src/cli/exec.ts";
import { runExec } from "../../src/core/run/exec.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { REFERENCE_THREAD_ID, referenceRollout } from "../fixtures/reference-rollout.ts";
import { reply, startMockResponses } from "../mock/responses-server.ts";
import { fakeRuntime, stdinFrom } from "../support/fake-runtime.ts";
import { useTempDirs } from "../temp.ts";

const tempDir = useTempDirs();
const scratch = (name: string) => tempDir(`ocx-fork-${name}-`);

const rolloutsUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? rolloutsUnder(join(dir, e.name)) : e.name.endsWith(".jsonl") ? [join(dir, e.name)] : []));

describe("exec fork", () => {
  test("reads the source once: a line appended to it after that read is in neither the fork's history nor its file", async () => {
    const mock = await startMockResponses([reply("fork answer")]);
    try {
      const home = scratch("home");
      const cwd = scratch("cwd");
      writeFileSync(
        join(home, "config.toml"),
        [`model = "gpt-5.5"`, `model_provider = "mock"`, `[model_providers.mock]`, `name = "Mock"`, `base_url = ${JSON.stringify(mock.url)}`, `env_key = "CODEX_API_KEY"`, `wire_api = "responses"`, ""].join("\n"),
      );
      const dir = join(home, "sessions", "2026", "11", "20");
      mkdirSync(dir, { recursive: true });
      const source = join(dir, `rollout-2026-11-20T10-00-00-${REFERENCE_THREAD_ID}.jsonl`);
      writeFileSync(source, referenceRollout(cwd, "mock"));
      const original = readFileSync(source, "utf8");
      // What a concurrent `resume` of the source would append.
      const later = { timestamp: "2026-11-20T10:05:00.000Z", ordinal: 99, type: "response_item", payload: { type: "message", role: "user", content: [{ type: "input_text", text: "LATER-PROMPT" }] } };

      const base = fakeRuntime({ envVars: { CODEX_HOME: home, CODEX_API_KEY: "sk-test-fork-key-1234" }, stdin: stdinFrom(null, { isTTY: true }) });
      let reads = 0;
      const afterRead = <T>(path: string, result: T): T => {
        if (path === source && ++reads === 1) appendFileSync(source, `${JSON.stringify(later)}\n`);
        return result;
      };
      const runtime: Runtime = {
        ...base,
        cwd: () => cwd,
        // A clock before every time other tests give uuidv7 (its ids increase across this process).
        now: () => Date.UTC(2001, 0, 1),
        fs: {
          ...base.fs,
          readFile: async (path, o) => afterRead(path, await base.fs.readFile(path, o)),
          readRange: async (path, offset, length, into) => afterRead(path, await base.fs.readRange(path, offset, length, into)),
          ...(base.fs.openReadSync
            ? {
                openReadSync: (path: string) => {
                  const handle = base.fs.openReadSync!(path);
                  return {
                    ...handle,
                    read: async (offset: number, length: number, into?: Uint8Array) => afterRead(path, await handle.read(offset, length, into)),
                    readSync: (offset: number, length: number, into?: Uint8Array) => afterRead(path, handle.readSync(offset, length, into)),
                  };
                },
              }
            : {}),
        },
      };
      const code = await runExec(runtime, execOptions(["fork", REFERENCE_THREAD_ID, "--json", "--skip-git-repo-check", "fork prompt"], () => {}));
      expect(base.stderr.text()).toBe("");
      expect(code).toBe(0);
      // The history re-sent is the source as read, then the new prompt.
      expect(JSON.stringify(mock.requests[0]!.body.input)).not.toContain("LATER-PROMPT");
      // The fork's file: its session_meta, then the source's lines as read (but its session_meta), then the fork's turn.
      const forkFile = rolloutsUnder(join(home, "sessions")).find((p) => p !== source)!;
      const copied = readFileSync(forkFile, "utf8").split("\n").filter(Boolean).slice(1).map((l) => JSON.parse(l));
      const sourceLines = original.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.type !== "session_meta");
      expect(copied.slice(0, sourceLines.length).map(({ ordinal: _o, ...l }) => l)).toEqual(sourceLines.map(({ ordinal: _o, ...l }) => l));
      expect(readFileSync(forkFile, "utf8")).not.toContain("LATER-PROMPT");
      expect(reads).toBe(1);
    } finally {
      await mock.close();
    }
  });
});
