// The Codex TypeScript SDK drives dist/ocx (codexPathOverride + baseUrl), as it would drive
// `codex exec`: run() and runStreamed() of a one-turn thread with a command.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Codex } from "@openai/codex-sdk";
import {
  customToolCall,
  execCommand,
  functionCall,
  message,
  sse,
  startMockResponses,
  turn,
  usage,
  type Mock,
} from "../mock/responses-server.ts";
import { cleanupTemp, join, makeDir, makeRepo, ocxBin, readFileSync } from "./harness.ts";

let mock: Mock;
beforeAll(async () => {
  mock = await startMockResponses();
});
afterAll(async () => {
  await mock.close();
  cleanupTemp();
});

function script() {
  mock.push(
    sse(turn([execCommand("echo from-sdk", {}, "call_sdk")], usage(120, 8, 20, 3))),
    sse(turn([message("The command printed from-sdk.")], usage(200, 12, 100, 0))),
  );
}

function client(home: string, env: Record<string, string> = {}) {
  return new Codex({
    codexPathOverride: ocxBin(),
    baseUrl: mock.url,
    apiKey: "sk-sdk-test",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, NO_COLOR: "1", ...env },
  });
}

const expectedUsage = {
  input_tokens: 320,
  cached_input_tokens: 120,
  cache_write_input_tokens: 0,
  output_tokens: 20,
  reasoning_output_tokens: 3,
};

test("SDK run(): final response, items and usage as scripted", async () => {
  script();
  const before = mock.requests.length;
  const home = makeDir("sdk-home-");
  const thread = client(home).startThread({
    workingDirectory: makeRepo(),
    sandboxMode: "danger-full-access",
    skipGitRepoCheck: true,
  });
  const result = await thread.run("run echo");
  expect(result.finalResponse).toBe("The command printed from-sdk.");
  expect(result.usage).toEqual(expectedUsage);
  const types = result.items.map((i) => i.type);
  expect(types).toEqual(["command_execution", "agent_message"]);
  const cmd = result.items[0] as { command: string; aggregated_output: string; exit_code: number; status: string };
  expect(cmd.aggregated_output).toBe("from-sdk\n");
  expect(cmd.exit_code).toBe(0);
  expect(cmd.status).toBe("completed");
  expect(thread.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  // The SDK's baseUrl reached ocx as openai_base_url, its apiKey as the bearer token.
  const req = mock.requests[before]!;
  expect(req.headers.authorization).toBe("Bearer sk-sdk-test");
  expect(req.headers.originator).toBe("codex_sdk_ts");
  expect(JSON.stringify(req.body.input)).toContain("run echo");
});

test("SDK runStreamed(): the same events arrive as a stream", async () => {
  script();
  const home = makeDir("sdk-home-");
  const thread = client(home).startThread({
    workingDirectory: makeRepo(),
    sandboxMode: "danger-full-access",
  });
  const { events } = await thread.runStreamed("run echo");
  const seen: Array<{ type: string; item?: { type: string; text?: string } }> = [];
  for await (const ev of events) seen.push(ev as (typeof seen)[number]);
  expect(seen.map((e) => e.type)).toEqual([
    "thread.started",
    "turn.started",
    "item.started",
    "item.completed",
    "item.completed",
    "turn.completed",
  ]);
  expect(seen[4]!.item).toMatchObject({ type: "agent_message", text: "The command printed from-sdk." });
  expect((seen[5] as unknown as { usage: unknown }).usage).toEqual(expectedUsage);
});

test("SDK run() rejects when ocx reports a failed turn", async () => {
  mock.push(sse(turn([execCommand("echo x")])));
  const home = makeDir("sdk-home-");
  // read-only default on a host that (we pretend) cannot enforce it: the turn fails, exit 5
  const thread = client(home, { OCX_SANDBOX_FORCE_UNAVAILABLE: "simulated" }).startThread({ workingDirectory: makeRepo() });
  await expect(thread.run("try a command")).rejects.toThrow(/cannot enforce the read-only sandbox/);
});

test("SDK run(): a patch and a plan come through as file_change and todo_list items", async () => {
  mock.push(
    sse(
      turn([
        functionCall("update_plan", { plan: [{ step: "Edit", status: "in_progress" }] }, "call_plan"),
        customToolCall("apply_patch", "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n", "call_patch"),
      ]),
    ),
    sse(turn([message("Added hello.txt.")])),
  );
  const home = makeDir("sdk-home-");
  const repo = makeRepo();
  const thread = client(home).startThread({ workingDirectory: repo, sandboxMode: "workspace-write" });
  const result = await thread.run("add a file");
  expect(result.finalResponse).toBe("Added hello.txt.");
  expect(readFileSync(join(repo, "hello.txt"), "utf8")).toBe("hi\n");
  const byType = Object.fromEntries(result.items.map((i) => [i.type, i]));
  expect(byType.file_change).toMatchObject({ changes: [{ path: join(repo, "hello.txt"), kind: "add" }], status: "completed" });
  expect(byType.todo_list).toMatchObject({ items: [{ text: "Edit", completed: false }] });
});

test("SDK: a three-turn thread; turns 2 and 3 resume by id and the server receives the whole history each time", async () => {
  mock.push(
    sse(turn([execCommand("echo turn-one", {}, "call_t1")])),
    sse(turn([message("first answer")])),
    sse(turn([message("second answer")])),
    sse(turn([message("third answer")])),
  );
  const before = mock.requests.length;
  const home = makeDir("sdk-home-");
  const repo = makeRepo();
  const thread = client(home).startThread({ workingDirectory: repo, sandboxMode: "danger-full-access" });
  const r1 = await thread.run("turn one");
  const id = thread.id;
  const r2 = await thread.run("turn two");
  const r3 = await thread.run("turn three");
  expect([r1.finalResponse, r2.finalResponse, r3.finalResponse]).toEqual(["first answer", "second answer", "third answer"]);
  expect(thread.id).toBe(id);
  const inputs = mock.requests.slice(before).map((r) => r.body.input as Array<{ type: string; role?: string; content?: Array<{ text?: string }> }>);
  expect(inputs).toHaveLength(4);
  // Each turn's request starts with everything the previous turn's last request sent.
  for (const [prev, next] of [
    [inputs[1]!, inputs[2]!],
    [inputs[2]!, inputs[3]!],
  ] as const) {
    expect(next.slice(0, prev.length)).toEqual(prev);
  }
  const userTexts = inputs[3]!.filter((i) => i.role === "user").map((i) => i.content?.at(-1)?.text);
  expect(userTexts.filter((t) => t?.startsWith("turn "))).toEqual(["turn one", "turn two", "turn three"]);
  expect(JSON.stringify(inputs[3])).toContain("turn-one"); // the command output from turn 1
  expect(inputs[3]!.filter((i) => i.role === "assistant")).toHaveLength(2);
});

test("SDK with an MCP server from `config`: mcp_tool_call items arrive, completed and failed", async () => {
  mock.push(
    sse(turn([functionCall("mcp__fx__echo", { text: "sdk" }, "call_m1"), functionCall("mcp__fx__fail", {}, "call_m2")])),
    sse(turn([message("done")])),
  );
  const home = makeDir("sdk-home-");
  const codex = new Codex({
    codexPathOverride: ocxBin(),
    baseUrl: mock.url,
    apiKey: "sk-sdk-test",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, CODEX_HOME: home, NO_COLOR: "1" },
    config: { mcp_servers: { fx: { command: process.execPath, args: [join(import.meta.dir, "../fixtures/mcp/server.ts")] } } },
  });
  const thread = codex.startThread({ workingDirectory: makeRepo(), skipGitRepoCheck: true });
  const { events } = await thread.runStreamed("use the tool");
  const seen: any[] = [];
  for await (const e of events) seen.push(e);
  const started = seen.filter((e) => e.type === "item.started" && e.item.type === "mcp_tool_call");
  const completed = seen.filter((e) => e.type === "item.completed" && e.item.type === "mcp_tool_call").map((e) => e.item);
  expect(started).toHaveLength(2);
  completed.sort((a, b) => a.tool.localeCompare(b.tool)); // calls of one response complete in any order
  expect(completed[0]).toMatchObject({ server: "fx", tool: "echo", arguments: { text: "sdk" }, status: "completed", error: null, result: { content: [{ type: "text", text: "Echo: sdk" }], structured_content: null } });
  expect(completed[1]).toMatchObject({ server: "fx", tool: "fail", status: "failed", error: null });
  expect(seen.at(-1).type).toBe("turn.completed");
});
