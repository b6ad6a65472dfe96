// End-to-end tests of hooks and notify (issue 18): hook scripts append the JSON they get on
// stdin to a file; each event fires once, in order, with the reference's fields; a PreToolUse
// deny blocks the command (it never runs) and the model is told why; project hooks run only when
// trusted or with --dangerously-bypass-hook-trust, and a skipped, failing or hanging hook is
// reported; notify gets the turn's JSON after a completed turn and nothing after a failed one.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { callOutput, dynamic, execCommand, functionCall, http, messageTexts, reply, sse, turn } from "../mock/responses-server.ts";
import { REPO_ROOT, checkEventStream, cleanupTemp, items, join, makeDir, makeRepo, runOcx, useMockServers, waitFor } from "./harness.ts";

const setup = useMockServers();
afterAll(() => cleanupTemp());

const JSON_ = ["exec", "--json", "--color", "never"];

/** A hook command that appends its stdin (one JSON line) to `log`. */
const logTo = (log: string) => `cat >> ${JSON.stringify(log)}; echo >> ${JSON.stringify(log)}`;

const readLog = (log: string): any[] =>
  existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)) : [];

function hooksJson(dir: string, hooks: Record<string, unknown>) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hooks.json"), JSON.stringify({ hooks }));
}

describe("hooks", () => {
  test("each event fires once, in order, with the reference's fields; matchers select tool hooks", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("echo hook-probe-output", {}, "call_probe")])), reply("done")]);
    const repo = makeRepo();
    const log = join(repo, "hooks.log");
    const other = join(repo, "other.log");
    const all = (matcher?: string, file = log) => [{ ...(matcher ? { matcher } : {}), hooks: [{ type: "command", command: logTo(file), timeout: 10 }] }];
    hooksJson(home, {
      SessionStart: all(),
      UserPromptSubmit: all(),
      PreToolUse: [...all("Bash"), ...all("apply_patch", other)],
      PostToolUse: all("Bash"),
      Stop: all(),
    });
    // Hooks run in the commands' sandbox: the log lies in the writable workspace.
    const r = await runOcx([...JSON_, "-s", "workspace-write", "probe the hooks"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const entries = readLog(log);
    expect(entries.map((e) => e.hook_event_name)).toEqual(["SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop"]);
    const threadId = r.events![0].thread_id;
    for (const e of entries) {
      expect(e.session_id).toBe(threadId);
      expect(e.cwd).toBe(repo);
      expect(e.model).toBe("gpt-5.5");
      expect(typeof e.transcript_path).toBe("string");
      expect(existsSync(e.transcript_path)).toBe(true);
      expect(e.permission_mode).toBe("default");
    }
    const [start, prompt, pre, post, stop] = entries;
    expect(start.source).toBe("startup");
    expect(start.turn_id).toBeUndefined();
    const turnId = prompt.turn_id;
    expect(typeof turnId).toBe("string");
    for (const e of [pre, post, stop]) expect(e.turn_id).toBe(turnId);
    expect(prompt.prompt).toBe("probe the hooks");
    expect(pre).toMatchObject({ tool_name: "Bash", tool_input: { command: "echo hook-probe-output" }, tool_use_id: "call_probe" });
    expect(post).toMatchObject({ tool_name: "Bash", tool_input: { command: "echo hook-probe-output" }, tool_use_id: "call_probe", tool_response: "hook-probe-output\n" });
    expect(stop).toMatchObject({ stop_hook_active: false, last_assistant_message: "done" });
    expect(existsSync(other)).toBe(false);
    // Hooks add no items of their own.
    expect(items(r.events, "item.completed", "error")).toEqual([]);
    expect(mock.requests.length).toBe(2);
  });

  test("a PreToolUse deny blocks the command, tells the model why and shows a failed item", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("touch created.txt", {}, "call_touch")])), reply("ok")]);
    const repo = makeRepo();
    const post = join(makeDir("post-"), "post.log");
    const deny = JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: "no touching" } });
    hooksJson(home, {
      PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: `cat > /dev/null; echo '${deny}'` }] }],
      PostToolUse: [{ hooks: [{ type: "command", command: logTo(post) }] }],
    });
    const r = await runOcx([...JSON_, "-s", "danger-full-access", "touch it"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(existsSync(join(repo, "created.txt"))).toBe(false);
    const reason = "Command blocked by PreToolUse hook: no touching. Command: touch created.txt";
    expect(callOutput(mock.requests[1]!.body, "call_touch")).toBe(reason);
    const blocked = items(r.events, "item.completed", "command_execution");
    expect(blocked).toEqual([expect.objectContaining({ command: "touch created.txt", status: "failed", aggregated_output: reason })]);
    expect(r.stderr).toContain(reason);
    expect(readLog(post)).toEqual([]);
    expect(checkEventStream(r.events)).toEqual([]);
  });

  test("in human mode a blocked command is shown as not run, with the reason", async () => {
    const { home } = await setup([sse(turn([execCommand("touch created.txt", {}, "call_touch")])), reply("ok")]);
    const repo = makeRepo();
    hooksJson(home, { PreToolUse: [{ hooks: [{ type: "command", command: "cat > /dev/null; echo 'not here' >&2; exit 2" }] }] });
    const r = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "touch it"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("ok\n");
    expect(existsSync(join(repo, "created.txt"))).toBe(false);
    expect(r.stderr).toContain(`exec\ntouch created.txt in ${repo}\n not run:\nCommand blocked by PreToolUse hook: not here. Command: touch created.txt\n`);
  });

  test("a blocked MCP call's item names the tool's own server and tool, also when the server's name holds `__` or the tool's name was shortened", async () => {
    const server = "fx__two";
    const longTool = `look_up_${"x".repeat(60)}_tail`;
    const toml = [
      `[mcp_servers.${JSON.stringify(server)}]`,
      `command = ${JSON.stringify(process.execPath)}`,
      `args = [${JSON.stringify(join(REPO_ROOT, "test/fixtures/mcp/server.ts"))}]`,
      "",
    ].join("\n");
    const { mock, home } = await setup(
      [
        // the flat names as offered: mcp__fx__two__echo, then the long one shortened with a hash
        sse(turn([functionCall("mcp__fx__two__echo", { text: "hi" }, "c1")])),
        dynamic((req) => sse(turn([functionCall(req.body.tools.find((t: any) => t.name?.startsWith("mcp__fx__two__look_up_")).name, {}, "c2")]))),
        reply("ok"),
      ],
      toml,
    );
    const log = join(makeDir("pre-"), "pre.log");
    hooksJson(home, { PreToolUse: [{ matcher: "mcp__.*", hooks: [{ type: "command", command: `${logTo(log)}; echo 'not this one' >&2; exit 2` }] }] });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-s", "danger-full-access", "use the tools"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    expect(readLog(log).map((e) => e.tool_use_id)).toEqual(["c1", "c2"]);
    expect(readLog(log)[0]).toMatchObject({ tool_name: "mcp__fx__two__echo", tool_input: { text: "hi" } });
    const blocked = items(r.events, "item.completed", "mcp_tool_call");
    expect(blocked.map((i) => [i.server, i.tool, i.status])).toEqual([
      [server, "echo", "failed"],
      [server, longTool, "failed"],
    ]);
    expect(blocked[0].error.message).toBe("Command blocked by PreToolUse hook: not this one. Command: mcp__fx__two__echo");
    expect(callOutput(mock.requests[1]!.body, "c1")).toBe(blocked[0].error.message);
  });

  test("a Stop hook can ask the model to go on; the next Stop says the hook is active", async () => {
    const { mock, home } = await setup([reply("first answer"), reply("second answer")]);
    const log = join(makeDir("stop-"), "stop.log");
    const script = `input=$(cat); printf '%s\\n' "$input" >> ${JSON.stringify(log)}; case "$input" in *'"stop_hook_active":false'*) echo '{"decision":"block","reason":"also run the tests"}';; esac`;
    hooksJson(home, { Stop: [{ hooks: [{ type: "command", command: script }] }] });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-s", "danger-full-access", "answer"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(0);
    expect(mock.requests.length).toBe(2);
    expect(messageTexts(mock.requests[1]!.body).at(-1)).toBe("also run the tests");
    expect(readLog(log).map((e) => [e.stop_hook_active, e.last_assistant_message])).toEqual([[false, "first answer"], [true, "second answer"]]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["first answer", "second answer"]);
  });

  test("an untrusted project hook does not run and is reported; a trust entry or the flag lets it run", async () => {
    const { home } = await setup([reply("one"), reply("two"), reply("three")]);
    const repo = makeRepo();
    const marker = join(makeDir("marker-"), "ran.log");
    hooksJson(join(repo, ".codex"), { SessionStart: [{ hooks: [{ type: "command", command: logTo(marker) }] }] });
    const args = [...JSON_, "-s", "danger-full-access", "go"];

    const r1 = await runOcx(args, { home, cwd: repo });
    expect(r1.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    const errors = items(r1.events, "item.completed", "error").map((i) => i.message);
    expect(errors.length).toBe(1);
    expect(errors[0]).toContain(join(repo, ".codex", "hooks.json"));
    expect(errors[0]).toContain("is not trusted and did not run");
    expect(r1.stderr).toContain("is not trusted and did not run");
    expect(checkEventStream(r1.events)).toEqual([]);

    // The flag: it runs, with the reference's warning.
    const r2 = await runOcx([...args.slice(0, -1), "--dangerously-bypass-hook-trust", "go"], { home, cwd: repo });
    expect(r2.code).toBe(0);
    expect(readLog(marker).length).toBe(1);
    expect(items(r2.events, "item.completed", "error").map((i) => i.message)).toEqual([
      "`--dangerously-bypass-hook-trust` is enabled. Enabled hooks may run without review for this invocation.",
    ]);

    // The trust entry the report names (the reference's key and hash): it runs without the flag.
    const entry = errors[0].match(/(\[hooks\.state\..*\]) trusted_hash = ("sha256:[0-9a-f]{64}")/);
    expect(entry).not.toBeNull();
    writeFileSync(join(home, "config.toml"), `${readFileSync(join(home, "config.toml"), "utf8")}\n${entry![1]}\ntrusted_hash = ${entry![2]}\n`);
    const r3 = await runOcx(args, { home, cwd: repo });
    expect(r3.code).toBe(0);
    expect(items(r3.events, "item.completed", "error")).toEqual([]);
    expect(readLog(marker).length).toBe(2);
  });

  test("a hook that hangs is killed at its timeout and reported; a failing hook is reported; the run goes on", async () => {
    const { home } = await setup([reply("still answered")]);
    const pidFile = join(makeDir("pid-"), "hook.pid");
    hooksJson(home, {
      SessionStart: [{ hooks: [{ type: "command", command: `echo $$ > ${JSON.stringify(pidFile)}; exec sleep 600`, timeout: 1 }] }],
      UserPromptSubmit: [{ hooks: [{ type: "command", command: "echo broken >&2; exit 7" }] }],
    });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-s", "danger-full-access", "go"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(0);
    const errors = items(r.events, "item.completed", "error").map((i) => i.message);
    expect(errors).toEqual([
      expect.stringMatching(/^hook ".*sleep 600" \(SessionStart in .*hooks\.json\) timed out after 1 s and was stopped$/),
      expect.stringMatching(/^hook "echo broken >&2; exit 7" \(UserPromptSubmit in .*hooks\.json\) failed: it exited with code 7: broken$/),
    ]);
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["still answered"]);
    expect(checkEventStream(r.events)).toEqual([]);
  });

  test("an interrupt stops a running hook at once: exit 130, the hook's process is gone", async () => {
    const { mock, home } = await setup([reply("never asked")]);
    const pidFile = join(makeDir("pid-"), "hook.pid");
    hooksJson(home, { SessionStart: [{ hooks: [{ type: "command", command: `echo $$ > ${JSON.stringify(pidFile)}.tmp; mv ${JSON.stringify(pidFile)}.tmp ${JSON.stringify(pidFile)}; exec sleep 600` }] }] });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-s", "danger-full-access", "go"], {
      home,
      cwd: makeDir("cwd-"),
      signalAfter: { after: () => waitFor(() => existsSync(pidFile), 15_000, "the hook to start") },
    });
    expect(r.code).toBe(130);
    expect(r.events?.at(-1)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
    expect(existsSync(`/proc/${Number(readFileSync(pidFile, "utf8").trim())}`)).toBe(false);
    expect(mock.requests.length).toBe(0);
  });

  test("hooks never see ocx's credentials, in their environment or in what they are sent", async () => {
    const { home } = await setup([reply("the key is sk-test-e2e")]);
    const dir = makeDir("env-");
    const envLog = join(dir, "env.log");
    const stopLog = join(dir, "stop.log");
    hooksJson(home, {
      SessionStart: [{ hooks: [{ type: "command", command: `env > ${JSON.stringify(envLog)}` }] }],
      Stop: [{ hooks: [{ type: "command", command: logTo(stopLog) }] }],
    });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-s", "danger-full-access", "go"], { home, cwd: makeDir("cwd-"), env: { OPENAI_API_KEY: "sk-test-e2e" } });
    expect(r.code).toBe(0);
    const env = readFileSync(envLog, "utf8");
    expect(env).toContain("CODEX_THREAD_ID=");
    expect(env).not.toContain("sk-test-e2e");
    expect(readLog(stopLog).map((e) => e.last_assistant_message)).toEqual(["the key is [REDACTED]"]);
  });

  test("[[hooks.<Event>]] tables in config.toml run too, also under --strict-config", async () => {
    const log = join(makeDir("toml-"), "hooks.log");
    const { home } = await setup(
      [reply("ok")],
      `[[hooks.UserPromptSubmit]]\n[[hooks.UserPromptSubmit.hooks]]\ntype = "command"\ncommand = ${JSON.stringify(logTo(log))}\ntimeout = 5\n`,
    );
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "--strict-config", "-s", "danger-full-access", "from toml"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(0);
    expect(readLog(log).map((e) => [e.hook_event_name, e.prompt])).toEqual([["UserPromptSubmit", "from toml"]]);
  });

  test("[features] hooks = false turns hooks off", async () => {
    const { home } = await setup([reply("ok")]);
    const log = join(makeDir("off-"), "hooks.log");
    hooksJson(home, { SessionStart: [{ hooks: [{ type: "command", command: logTo(log) }] }] });
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "-c", "features.hooks=false", "go"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(0);
    expect(existsSync(log)).toBe(false);
  });
});

describe("notify", () => {
  const notifier = (log: string) => `notify = ["sh", "-c", "printf '%s\\\\n' \\"$1\\" >> ${log}", "notify"]`;

  test("runs after each completed turn with the reference's JSON; resume appends the prompt", async () => {
    const log = join(makeDir("notify-"), "notify.log");
    const { home } = await setup([reply("Hi."), reply("Hi again.")]);
    writeFileSync(join(home, "config.toml"), `${notifier(log)}\n${readFileSync(join(home, "config.toml"), "utf8")}`);
    const cwd = makeDir("cwd-");
    const r1 = await runOcx([...JSON_, "--skip-git-repo-check", "Say hi."], { home, cwd });
    expect(r1.code).toBe(0);
    const threadId = r1.events![0].thread_id;
    const first = readLog(log);
    expect(first).toEqual([
      { type: "agent-turn-complete", "thread-id": threadId, "turn-id": expect.any(String), cwd, client: "codex_exec", "input-messages": ["Say hi."], "last-assistant-message": "Hi." },
    ]);
    const r2 = await runOcx([...JSON_, "--skip-git-repo-check", "resume", threadId, "Again."], { home, cwd });
    expect(r2.code).toBe(0);
    const second = readLog(log);
    expect(second.length).toBe(2);
    expect(second[1]).toMatchObject({ "thread-id": threadId, "input-messages": ["Say hi.", "Again."], "last-assistant-message": "Hi again." });
    expect(second[1]["turn-id"]).not.toBe(first[0]["turn-id"]);
  });

  test("nothing after a failed turn; a failing notifier is a warning", async () => {
    const log = join(makeDir("notify-"), "notify.log");
    const { home } = await setup([http(400, { error: { message: "bad request", type: "invalid_request_error" } })]);
    writeFileSync(join(home, "config.toml"), `${notifier(log)}\n${readFileSync(join(home, "config.toml"), "utf8")}`);
    const r = await runOcx([...JSON_, "--skip-git-repo-check", "fail"], { home, cwd: makeDir("cwd-") });
    expect(r.code).toBe(1);
    expect(existsSync(log)).toBe(false);

    const ok = await setup([reply("fine")]);
    writeFileSync(join(ok.home, "config.toml"), `notify = ["false"]\n${readFileSync(join(ok.home, "config.toml"), "utf8")}`);
    const r2 = await runOcx([...JSON_, "--skip-git-repo-check", "go"], { home: ok.home, cwd: makeDir("cwd-") });
    expect(r2.code).toBe(0);
    expect(r2.stderr).toContain("notify: false exited with code 1");
  });
});
