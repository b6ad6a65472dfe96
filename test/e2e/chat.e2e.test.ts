// wire_api = "chat": exec against a local Chat Completions mock (llama.cpp / vLLM style stream).
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { chat } from "../mock/chat.ts";
import { type Mock, startMockResponses, type Step } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, existsSync, items, join, makeDir, makeRepo, readFileSync, runOcx, writeFileSync } from "./harness.ts";

afterAll(cleanupTemp);
let mocks: Mock[] = [];
afterEach(async () => {
  await Promise.all(mocks.map((m) => m.close()));
  mocks = [];
});

async function setup(script: Step[], extra = "") {
  const mock = await startMockResponses(script);
  mocks.push(mock);
  const home = makeDir("home-");
  writeFileSync(
    join(home, "config.toml"),
    [
      `model = "local-model"`,
      `model_provider = "llama"`,
      extra,
      `[model_providers.llama]`,
      `name = "llama.cpp"`,
      `base_url = "${mock.url}"`,
      `wire_api = "chat"`,
      `stream_max_retries = 1`,
      "",
    ].join("\n"),
  );
  return { mock, home };
}
const noKey = { CODEX_API_KEY: undefined };
const run = (home: string, args: string[], cwd?: string) => runOcx(["exec", "--json", "-s", "workspace-write", "-c", "sandbox_workspace_write.exclude_slash_tmp=true", "-c", "sandbox_workspace_write.exclude_tmpdir_env_var=true", ...args], { home, cwd, env: noKey });

describe("Chat Completions provider", () => {
  test("a plain answer: the request, the streamed text, usage in turn.completed", async () => {
    const { mock, home } = await setup([chat({ text: "Hello from a chat server, streamed in small pieces.", usage: { prompt_tokens: 120, completion_tokens: 12, cached: 100, reasoning: 3 } })]);
    const r = await run(home, ["say hello"]);
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const [req] = mock.requests;
    expect(req!.path).toBe("/v1/chat/completions");
    expect(req!.headers.authorization).toBeUndefined();
    const body = req!.body;
    expect(body.model).toBe("local-model");
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.messages[0].role).toBe("system");
    expect(body.messages.at(-1)).toEqual({ role: "user", content: "say hello" });
    expect(body.messages.some((m: any) => m.role === "user" && String(m.content).includes("<environment_context>"))).toBe(true);
    const names = body.tools.map((t: any) => `${t.type}:${t.function.name}`);
    expect(names).toContain("function:exec_command");
    const patch = body.tools.find((t: any) => t.function.name === "apply_patch");
    expect(patch.function.parameters.required).toEqual(["input"]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Hello from a chat server, streamed in small pieces."]);
    const u = { input_tokens: 120, cached_input_tokens: 100, cache_write_input_tokens: 0, output_tokens: 12, reasoning_output_tokens: 3 };
    expect(r.events!.at(-1)).toEqual({ type: "turn.completed", usage: u, run_usage: u, model_requests: 1, tool_calls: 0 });
  });

  test("parallel tool calls whose arguments arrive interleaved in 3-character chunks; results go back as tool messages", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([
      chat({
        text: "Running two commands.",
        chunkSize: 3,
        interleave: true,
        toolCalls: [
          { id: "call_a", name: "exec_command", args: { cmd: "echo first-output" } },
          { id: "call_b", name: "exec_command", args: { cmd: "echo second-output" } },
        ],
      }),
      chat({ text: "both ran" }),
    ]);
    const r = await run(home, ["run them"], repo);
    expect(r.code).toBe(0);
    const commands = items(r.events, "item.completed", "command_execution");
    // both ran (they finish in either order)
    expect(commands.map((c) => [c.command, c.exit_code]).sort()).toEqual([
      [expect.stringContaining("echo first-output"), 0],
      [expect.stringContaining("echo second-output"), 0],
    ]);
    const msgs = mock.requests[1]!.body.messages;
    const assistant = msgs.find((m: any) => m.role === "assistant");
    expect(assistant.content).toBe("Running two commands.");
    expect(assistant.tool_calls.map((c: any) => [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([
      ["call_a", "exec_command", { cmd: "echo first-output" }],
      ["call_b", "exec_command", { cmd: "echo second-output" }],
    ]);
    const tools = msgs.filter((m: any) => m.role === "tool");
    expect(tools.map((m: any) => m.tool_call_id)).toEqual(["call_a", "call_b"]);
    expect(tools[0].content).toContain("first-output");
    expect(tools[1].content).toContain("second-output");
    expect(msgs.indexOf(tools[0])).toBeGreaterThan(msgs.indexOf(assistant));
  });

  test("apply_patch as a JSON function creates the file", async () => {
    const repo = makeRepo();
    const patch = "*** Begin Patch\n*** Add File: hello.txt\n+hi from chat\n*** End Patch\n";
    const { mock, home } = await setup([chat({ toolCalls: [{ id: "call_p", name: "apply_patch", args: { input: patch } }] }), chat({ text: "patched" })]);
    const r = await run(home, ["add a file"], repo);
    expect(r.code).toBe(0);
    expect(readFileSync(join(repo, "hello.txt"), "utf8")).toBe("hi from chat\n");
    expect(items(r.events, "item.completed", "file_change")[0]).toMatchObject({ status: "completed", changes: [{ path: join(repo, "hello.txt"), kind: "add" }] });
    const tool = mock.requests[1]!.body.messages.find((m: any) => m.role === "tool");
    expect(tool.tool_call_id).toBe("call_p");
  });

  test("reasoning_content becomes a reasoning item before the answer", async () => {
    const { home } = await setup([chat({ reasoning: "Thinking about the greeting.", text: "hi" })]);
    const r = await run(home, ["greet"]);
    expect(r.code).toBe(0);
    const done = items(r.events, "item.completed");
    expect(done.map((i) => i.type)).toEqual(["reasoning", "agent_message"]);
    expect(done[0].text).toBe("Thinking about the greeting.");
  });

  test("a stream cut before finish_reason is retried; the retry's answer wins", async () => {
    const { mock, home } = await setup([chat({ text: "partial", cut: true }), chat({ text: "complete answer" })]);
    const r = await run(home, ["go"]);
    expect(r.code).toBe(0);
    expect(mock.requests.length).toBe(2);
    expect(r.events!.some((e) => e.type === "error" && e.message.includes("Reconnecting"))).toBe(true);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["complete answer"]);
  });

  test("an HTTP error from the chat server fails the turn with its message", async () => {
    const { http } = await import("../mock/responses-server.ts");
    const { home } = await setup([http(404, { error: { message: "model 'local-model' not found" } })]);
    const r = await run(home, ["go"]);
    expect(r.code).toBe(1);
    expect(r.events!.at(-1).type).toBe("turn.failed");
    expect(r.events!.at(-1).error.message).toContain("model 'local-model' not found");
  });

  test("an env_key provider sends its key as a bearer token", async () => {
    const { mock, home } = await setup([chat({ text: "ok" })]);
    writeFileSync(join(home, "config.toml"), readFileSync(join(home, "config.toml"), "utf8") + `env_key = "LLAMA_KEY"\n`);
    const r = await runOcx(["exec", "--skip-git-repo-check", "hi"], { home, env: { ...noKey, LLAMA_KEY: "sk-test-e2e-llama" } });
    expect(r.code).toBe(0);
    expect(mock.requests[0]!.headers.authorization).toBe("Bearer sk-test-e2e-llama");
    expect(existsSync(home)).toBe(true);
  });

  test("MCP tools are plain functions on the chat wire; the result comes back as the tool message", async () => {
    const server = [
      `[mcp_servers.fx]`,
      `command = ${JSON.stringify(process.execPath)}`,
      `args = [${JSON.stringify(join(import.meta.dir, "../fixtures/mcp/server.ts"))}]`,
      "",
    ].join("\n");
    const { mock, home } = await setup([chat({ toolCalls: [{ id: "call_m", name: "mcp__fx__echo", args: { text: "chat" } }] }), chat({ text: "echoed" })]);
    writeFileSync(join(home, "config.toml"), `${readFileSync(join(home, "config.toml"), "utf8")}\n${server}`);
    const r = await run(home, ["echo"]);
    expect(r.code).toBe(0);
    const echo = mock.requests[0]!.body.tools.find((t: any) => t.function.name === "mcp__fx__echo");
    expect(echo.function.parameters.properties.text.type).toBe("string");
    const tool = mock.requests[1]!.body.messages.find((m: any) => m.role === "tool" && m.tool_call_id === "call_m");
    expect(tool.content).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:\nEcho: chat$/);
    expect(items(r.events, "item.completed", "mcp_tool_call")[0]).toMatchObject({ server: "fx", tool: "echo", status: "completed" });
  });
});
