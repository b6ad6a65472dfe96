// Hook declarations (hooks.json and [[hooks.<Event>]] tables), the reference's trust key and hash,
// how tool calls appear to hooks, and the notify argument.
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { parse } from "smol-toml";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverHooks, handlersOf, matcherRegExp, trustHash, trustedHashes } from "../../src/core/hooks/config.ts";
import type { Runtime } from "../../src/core/runtime.ts";
import { fakeRuntime } from "../support/fake-runtime.ts";
import { hookCall } from "../../src/core/hooks/turn.ts";
import { notificationJson, userPrompts } from "../../src/core/hooks/notify.ts";

const TOML = `
[[hooks.PreToolUse]]
matcher = "Bash"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "echo pre"
timeout = 10

[[hooks.Stop]]
[[hooks.Stop.hooks]]
command = "echo stop"
[[hooks.Stop.hooks]]
command = "echo stop again"

[hooks.state."/p/config.toml:stop:0:1"]
trusted_hash = "sha256:abc"
`;

describe("hook declarations", () => {
  test("config.toml tables: events, matchers, timeouts (default 600) and the reference's keys", () => {
    const warnings: string[] = [];
    const hooks = (parse(TOML) as { hooks: unknown }).hooks;
    const handlers = handlersOf(hooks, "/p/config.toml", true, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(handlers.map((h) => [h.event, h.matcher, h.command, h.timeoutSec, h.key])).toEqual([
      ["PreToolUse", "Bash", "echo pre", 10, "/p/config.toml:pre_tool_use:0:0"],
      ["Stop", undefined, "echo stop", 600, "/p/config.toml:stop:0:0"],
      ["Stop", undefined, "echo stop again", 600, "/p/config.toml:stop:0:1"],
    ]);
    expect([...trustedHashes(hooks)]).toEqual([["/p/config.toml:stop:0:1", "sha256:abc"]]);
  });

  test("unknown events, non-command hooks and invalid matchers are warned about and skipped", () => {
    const warnings: string[] = [];
    const handlers = handlersOf(
      {
        Nope: [{ hooks: [{ type: "command", command: "x" }] }],
        PreToolUse: [{ matcher: "(", hooks: [{ type: "command", command: "x" }] }, { hooks: [{ type: "prompt", prompt: "p" }, { type: "command", command: "ok" }] }],
      },
      "/h/hooks.json",
      false,
      (w) => warnings.push(w),
    );
    expect(handlers.map((h) => [h.command, h.key])).toEqual([["ok", "/h/hooks.json:pre_tool_use:1:1"]]);
    expect(warnings.length).toBe(3);
    expect(warnings[0]).toContain('"Nope"');
    expect(warnings[1]).toContain('invalid matcher "("');
  });

  test("matchers match the whole tool name; * and empty match every tool", () => {
    expect(matcherRegExp("Bash")!.test("Bash")).toBe(true);
    expect(matcherRegExp("Bash")!.test("BashX")).toBe(false);
    expect(matcherRegExp("Bash|apply_patch")!.test("apply_patch")).toBe(true);
    expect(matcherRegExp("mcp__.*")!.test("mcp__echo__echo")).toBe(true);
    expect(matcherRegExp("*")!.test("anything")).toBe(true);
    expect(matcherRegExp(undefined)!.test("anything")).toBe(true);
  });

  test("the trust hash is sha256 of the compact sorted-key JSON of the declaration", async () => {
    const sha = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
    const [pre, stop] = handlersOf((parse(TOML) as { hooks: unknown }).hooks, "/p/config.toml", true, () => {});
    expect(await trustHash(pre!)).toBe(sha('{"event_name":"pre_tool_use","hooks":[{"async":false,"command":"echo pre","timeout":10,"type":"command"}],"matcher":"Bash"}'));
    expect(await trustHash(stop!)).toBe(sha('{"event_name":"stop","hooks":[{"async":false,"command":"echo stop","timeout":600,"type":"command"}]}'));
  });
});

describe("hook discovery", () => {
  test("asks for every candidate file at once (not one after another), and finds the same hooks, user layer first, then the project's from the root down", async () => {
    const tmp = realpathSync(mkdtempSync(join(tmpdir(), "ocx-hooks-discovery-")));
    try {
      const home = join(tmp, "home");
      const repo = join(tmp, "repo");
      const cwd = join(repo, "a", "b");
      for (const d of [home, join(repo, ".codex"), join(cwd, ".codex")]) mkdirSync(d, { recursive: true });
      const hooksJson = (command: string) => JSON.stringify({ hooks: { Stop: [{ hooks: [{ type: "command", command }] }] } });
      writeFileSync(join(home, "hooks.json"), hooksJson("user json"));
      writeFileSync(join(repo, ".codex", "config.toml"), `[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ncommand = "root toml"\n`);
      writeFileSync(join(cwd, ".codex", "hooks.json"), hooksJson("cwd json"));
      writeFileSync(join(cwd, ".codex", "config.toml"), `model = "x"\n`);

      const base = fakeRuntime();
      const asked: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const runtime: Runtime = { ...base, fs: { ...base.fs, stat: async (p) => (asked.push(p), await gate, base.fs.stat(p)) } };
      const userHooks = { Stop: [{ hooks: [{ type: "command", command: "user toml" }] }] };
      const found = discoverHooks(runtime, { codexHome: home, userHooks, gitRoot: repo, cwd, warn: () => {} });
      await Bun.sleep(0); // what discovery asks before any answer comes
      const candidates = [home, repo, join(repo, "a"), cwd].flatMap((d) => (d === home ? [join(home, "hooks.json")] : [join(d, ".codex", "hooks.json"), join(d, ".codex", "config.toml")]));
      expect(asked.toSorted()).toEqual(candidates.toSorted());
      open();
      expect((await found).map((h) => [h.command, h.project])).toEqual([
        ["user json", false],
        ["user toml", false],
        ["root toml", true],
        ["cwd json", true],
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("tool calls as hooks see them", () => {
  test("commands are Bash with the command line; apply_patch carries the patch; MCP tools keep their names", () => {
    const bash = hookCall({ name: "exec_command", callId: "c1", input: JSON.stringify({ cmd: "ls -la", yield_time_ms: 1000 }) })!;
    expect([bash.toolName, bash.toolInput, bash.command]).toEqual(["Bash", { command: "ls -la" }, "ls -la"]);
    expect(bash.blockedItem("why")).toEqual({ type: "command_execution", command: "ls -la", aggregated_output: "why", exit_code: null, status: "failed" });
    const patch = hookCall({ name: "apply_patch", callId: "c2", input: "*** Begin Patch\n*** End Patch" })!;
    expect([patch.toolName, patch.toolInput]).toEqual(["apply_patch", { command: "*** Begin Patch\n*** End Patch" }]);
    const mcp = hookCall({ name: "mcp__a__b__say", callId: "c3", input: '{"text":"hi"}', mcp: { server: "a__b", tool: "say" } })!;
    expect([mcp.toolName, mcp.toolInput]).toEqual(["mcp__a__b__say", { text: "hi" }]);
    expect(mcp.blockedItem("why")).toMatchObject({ type: "mcp_tool_call", server: "a__b", tool: "say", status: "failed", error: { message: "why" } });
    expect(hookCall({ name: "update_plan", callId: "c4", input: "{}" })).toBeUndefined();
  });
});

describe("notify", () => {
  test("the argument has the reference's keys; the prompts leave out the messages ocx adds", () => {
    const text = (t: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text: t }] });
    const prompts = userPrompts([text("# AGENTS.md instructions for /x\n..."), text("<environment_context>...</environment_context>"), text("Say hi."), { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi." }] }, text("Again.")]);
    expect(prompts).toEqual(["Say hi.", "Again."]);
    expect(JSON.parse(notificationJson({ threadId: "t", turnId: "u", cwd: "/w", inputMessages: prompts, lastAssistantMessage: "Hi." }))).toEqual({
      type: "agent-turn-complete",
      "thread-id": "t",
      "turn-id": "u",
      cwd: "/w",
      client: "codex_exec",
      "input-messages": ["Say hi.", "Again."],
      "last-assistant-message": "Hi.",
    });
  });
});
