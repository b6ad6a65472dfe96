// End-to-end tests of `ocx exec`: the compiled binary against the local mock Responses server.
// They assert what a user sees: exit code, stdout, stderr, JSONL events, and what the model
// endpoint received. Nothing here touches the network beyond 127.0.0.1.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { release as osRelease, type as osType } from "node:os";
import { OCX_VERSION } from "../../src/core/version.ts";
import {
  callOutput,
  dynamic,
  execCommand,
  failed,
  functionCall,
  http,
  inputItems,
  message,
  messageTexts,
  reasoning,
  reply,
  sse,
  turn,
  usage,
} from "../mock/responses-server.ts";
import {
  checkEventStream,
  cleanupTemp,
  items,
  makeDir,
  makeRepo,
  processAlive,
  readPid,
  runOcx,
  waitFor,
  type HomeOptions,
  useMockServers,
} from "./harness.ts";

const T = 30_000; // per-test timeout
const FULL = ["--sandbox", "danger-full-access"];
const JSON_ = ["--json", "--color", "never"];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const setup = useMockServers();
afterAll(() => cleanupTemp());

const types = (events: any[] | undefined) => (events ?? []).map((e) => e.type);
const lastEvent = (events: any[] | undefined) => (events ?? []).at(-1);
/** The command string as the reference reports it: `<shell> -lc '<cmd>'`. */
const shellCommand = (cmd: string) => new RegExp(`^\\S*\\b(bash|sh|zsh) -lc '${cmd.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'$`);

describe("ocx exec end to end", () => {
  // ---------------------------------------------------------------- plain answers and streams

  test("plain answer, human mode: stdout is exactly the message plus a newline", async () => {
    const { mock, home } = await setup([reply("Hello from the mock.", usage(200, 14, 40, 6))]);
    const r = await runOcx(["exec", "--color", "never", "say hi"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Hello from the mock.\n");
    expect(mock.requests).toHaveLength(1);
    const req = mock.requests[0]!;
    expect(req.headers.authorization).toBe("Bearer sk-test-e2e");
    expect(req.body.model).toBe("gpt-5.5");
    expect(req.body.stream).toBe(true);
    expect(messageTexts(req.body, "user")).toContain("say hi");
  }, T);

  test("the request: ocx's instructions, environment context, prompt, tools, store:false, cache key = thread id", async () => {
    const { mock, home } = await setup([reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "what is here?"], { home });
    expect(r.code).toBe(0);
    const req = mock.requests[0]!;
    const threadId = r.events![0].thread_id;
    expect(req.path).toBe("/v1/responses");
    expect(req.headers.accept).toBe("text/event-stream");
    // The OS part is the kernel's type and release (read from /proc on Linux, not node:os).
    expect(req.headers["user-agent"]).toBe(`ocx/${OCX_VERSION} (${osType()} ${osRelease()}; ${process.arch})`);
    expect(req.body.instructions).toContain("You are ocx");
    expect(req.body.store).toBe(false);
    expect(req.body.stream).toBe(true);
    expect(req.body.parallel_tool_calls).toBe(true);
    expect(req.body.prompt_cache_key).toBe(threadId);
    expect(req.body.tools.map((t: { name?: string; type: string }) => t.name ?? t.type)).toEqual([
      "exec_command",
      "write_stdin",
      "update_plan",
      "apply_patch",
      "view_image",
      "web_search",
    ]);
    for (const tool of req.body.tools.filter((t: { name?: string }) => t.name !== undefined && t.name !== "apply_patch")) {
      expect(tool).toMatchObject({ type: "function", strict: false, parameters: { type: "object", additionalProperties: false } });
    }
    const [envContext, prompt] = messageTexts(req.body, "user");
    expect(envContext).toStartWith("<environment_context>");
    expect(envContext).toContain("<cwd>");
    expect(envContext).toContain("<sandbox_mode>read-only</sandbox_mode>");
    expect(envContext).toContain("<current_date>");
    expect(prompt).toBe("what is here?");
    // Nothing secret in the body: the key travels only in the authorization header.
    expect(JSON.stringify(req.body)).not.toContain("sk-test-e2e");
  }, T);

  test("commands never see the API key ocx holds", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("env", {}, "call_env")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "show env"], { home, env: { OTHER_VAR: "kept" } });
    expect(r.code).toBe(0);
    const out = callOutput(mock.requests[1]!.body, "call_env")!;
    expect(out).toContain("OTHER_VAR=kept");
    expect(out).toContain("CODEX_CI=1");
    expect(out).not.toContain("sk-test-e2e");
    expect(out).not.toContain("CODEX_API_KEY");
    expect(r.stdout).not.toContain("sk-test-e2e");
  }, T);

  test("plain answer, --json: thread.started, turn.started, agent_message, turn.completed with usage", async () => {
    const { home } = await setup([reply("Hello from the mock.", usage(200, 14, 40, 6))]);
    const r = await runOcx(["exec", ...JSON_, "say hi"], { home });
    expect(r.code).toBe(0);
    expect(r.events).toBeDefined();
    expect(checkEventStream(r.events)).toEqual([]);
    expect(types(r.events)).toEqual(["thread.started", "turn.started", "item.completed", "turn.completed"]);
    expect(r.events![0].thread_id).toMatch(UUID);
    expect(r.events![2]).toEqual({ type: "item.completed", item: { id: "item_0", type: "agent_message", text: "Hello from the mock." } });
    // A new thread: its total is this run's usage; one request, no tool call; gpt-5.5 has no price, so no cost_usd.
    const u = { input_tokens: 200, cached_input_tokens: 40, cache_write_input_tokens: 0, output_tokens: 14, reasoning_output_tokens: 6 };
    expect(r.events![3]).toEqual({ type: "turn.completed", usage: u, run_usage: u, model_requests: 1, tool_calls: 0 });
  }, T);

  test("--json vs human: stdout carries only JSONL or only the final message", async () => {
    const script = () => [sse(turn([execCommand("echo streams-check")])), reply("Streams done.")];
    const a = await setup(script());
    const human = await runOcx(["exec", "--color", "never", ...FULL, "go"], { home: a.home });
    expect(human.code).toBe(0);
    expect(human.stdout).toBe("Streams done.\n");
    expect(human.stderr).toContain("echo streams-check"); // progress goes to stderr
    expect(human.stderr).not.toContain('"type":"thread.started"');

    const b = await setup(script());
    const json = await runOcx(["exec", ...JSON_, ...FULL, "go"], { home: b.home });
    expect(json.code).toBe(0);
    expect(json.events).toBeDefined(); // every stdout line is a JSON object
    expect(json.stdout.endsWith("\n")).toBe(true);
    for (const e of json.events!) expect(typeof e.type).toBe("string");
    expect(json.stdout.split("\n")).not.toContain("Streams done.");
    expect(checkEventStream(json.events)).toEqual([]);
    expect(items(json.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Streams done."]);
  }, T);

  // ---------------------------------------------------------------- commands

  test("one command: started/completed items and the call round trip", async () => {
    const { mock, home } = await setup([
      sse(turn([execCommand("echo hello", {}, "call_one")], usage(100, 10, 20, 3))),
      reply("Ran it.", usage(150, 5, 0, 1)),
    ]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "run echo"], { home });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);

    const [started] = items(r.events, "item.started", "command_execution");
    expect(started).toMatchObject({ id: "item_0", type: "command_execution", aggregated_output: "", exit_code: null, status: "in_progress" });
    expect(started.command).toMatch(shellCommand("echo hello"));
    const [done] = items(r.events, "item.completed", "command_execution");
    expect(done).toMatchObject({ id: "item_0", aggregated_output: "hello\n", exit_code: 0, status: "completed" });
    expect(items(r.events, "item.completed", "agent_message")).toEqual([{ id: "item_1", type: "agent_message", text: "Ran it." }]);
    const u = { input_tokens: 250, cached_input_tokens: 20, cache_write_input_tokens: 0, output_tokens: 15, reasoning_output_tokens: 4 };
    expect(lastEvent(r.events)).toEqual({ type: "turn.completed", usage: u, run_usage: u, model_requests: 2, tool_calls: 1 });

    expect(mock.requests).toHaveLength(2);
    const second = mock.requests[1]!.body;
    const call = inputItems(second, "function_call").find((i) => i.call_id === "call_one");
    expect(call).toMatchObject({ type: "function_call", name: "exec_command", call_id: "call_one" });
    expect(JSON.parse(call.arguments)).toEqual({ cmd: "echo hello" });
    const out = callOutput(second, "call_one")!;
    expect(out).toStartWith("Chunk ID: ");
    expect(out).toContain("Process exited with code 0");
    expect(out).toContain("hello");
    const input = second.input as any[];
    expect(input.indexOf(call)).toBeLessThan(input.findIndex((i) => i.type === "function_call_output" && i.call_id === "call_one"));
  }, T);

  test("two parallel commands in one response: results go back in call order", async () => {
    const { mock, home } = await setup([
      sse(turn([execCommand("sleep 0.5; echo first", {}, "call_a"), execCommand("echo second", {}, "call_b")])),
      reply("Both done."),
    ]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "run both"], { home });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const done = items(r.events, "item.completed", "command_execution");
    expect(done).toHaveLength(2);
    expect(done.map((i) => i.aggregated_output).sort()).toEqual(["first\n", "second\n"]);
    expect(done.map((i) => i.id).sort()).toEqual(["item_0", "item_1"]);
    expect(items(r.events, "item.completed", "agent_message")[0]).toMatchObject({ id: "item_2", text: "Both done." });

    expect(mock.requests).toHaveLength(2);
    const input = mock.requests[1]!.body.input as any[];
    const outputs = input.filter((i) => i.type === "function_call_output");
    expect(outputs.map((o) => o.call_id)).toEqual(["call_a", "call_b"]);
    expect(callOutput(mock.requests[1]!.body, "call_a")).toContain("first");
    expect(callOutput(mock.requests[1]!.body, "call_b")).toContain("second");
    for (const id of ["call_a", "call_b"]) {
      const ci = input.findIndex((i) => i.type === "function_call" && i.call_id === id);
      const oi = input.findIndex((i) => i.type === "function_call_output" && i.call_id === id);
      expect(ci).toBeGreaterThanOrEqual(0);
      expect(ci).toBeLessThan(oi);
    }
  }, T);

  test("a command exiting non-zero: status failed, real exit code, run still exits 0", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("echo hi; exit 3", {}, "call_x")])), reply("It failed.")]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "run it"], { home });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const [done] = items(r.events, "item.completed", "command_execution");
    expect(done).toMatchObject({ aggregated_output: "hi\n", exit_code: 3, status: "failed" });
    expect(done.command).toMatch(shellCommand("echo hi; exit 3"));
    expect(callOutput(mock.requests[1]!.body, "call_x")).toContain("Process exited with code 3");
    expect(lastEvent(r.events).type).toBe("turn.completed");
  }, T);

  test("a long command continued with write_stdin", async () => {
    const { mock, home } = await setup([
      sse(turn([execCommand("sleep 2; echo finished", { yield_time_ms: 250 }, "call_long")])),
      dynamic((req) => {
        const id = Number((callOutput(req.body, "call_long") ?? "").match(/Process running with session ID (\d+)/)?.[1] ?? -1);
        return sse(turn([functionCall("write_stdin", { session_id: id, chars: "", yield_time_ms: 15000 }, "call_poll")]));
      }),
      reply("Finished waiting."),
    ]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "run long"], { home });
    expect(mock.requests).toHaveLength(3);
    const first = callOutput(mock.requests[1]!.body, "call_long")!;
    expect(first).toStartWith("Chunk ID: ");
    expect(first).toMatch(/Process running with session ID \d+/);
    const poll = callOutput(mock.requests[2]!.body, "call_poll")!;
    expect(poll).toStartWith("Chunk ID: ");
    expect(poll).toContain("Process exited with code 0");
    expect(poll).toContain("finished");

    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const done = items(r.events, "item.completed", "command_execution");
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ exit_code: 0, status: "completed" });
    expect(done[0].aggregated_output).toContain("finished");
    expect(done[0].command).toMatch(shellCommand("sleep 2; echo finished"));
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Finished waiting."]);
  }, T);

  test("a command printing 200 MB finishes, output is truncated, memory stays bounded", async () => {
    const { mock, home } = await setup([sse(turn([execCommand("yes | head -c 200000000", {}, "call_big")])), reply("Big done.")]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "flood"], { home, measureRss: true });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    const [done] = items(r.events, "item.completed", "command_execution");
    expect(done).toMatchObject({ exit_code: 0, status: "completed" });
    expect(done.aggregated_output).toStartWith("y\n");
    expect(done.aggregated_output.length).toBeLessThan(20_000_000); // the reference keeps ~1 MiB
    expect(mock.requests).toHaveLength(2);
    const out = callOutput(mock.requests[1]!.body, "call_big")!;
    expect(out).toContain("Process exited with code 0");
    expect(out).toContain("y\ny\n");
    expect(out.length).toBeLessThan(1_000_000); // default max_output_tokens is 10000
    expect(r.stdout.length).toBeLessThan(50_000_000);
    // A safety net, not a benchmark: ocx must not hold the 200 MB in memory (measured: ~95 MB
    // peak against ~49 MB for a plain answer).
    expect(r.maxRssKb).toBeDefined();
    expect(r.maxRssKb!).toBeLessThan(170 * 1024);
  }, T);

  test("unknown tool: 'unsupported call: NAME' goes back and the run completes", async () => {
    const { mock, home } = await setup([sse(turn([functionCall("frobnicate", { x: 1 }, "call_u")])), reply("Carried on.")]);
    const r = await runOcx(["exec", ...JSON_, ...FULL, "try it"], { home });
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    expect(mock.requests).toHaveLength(2);
    expect(callOutput(mock.requests[1]!.body, "call_u")).toBe("unsupported call: frobnicate");
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Carried on."]);
    expect(lastEvent(r.events).type).toBe("turn.completed");
  }, T);

  test("--dangerously-bypass-approvals-and-sandbox runs commands and skips the git check", async () => {
    const { home } = await setup([sse(turn([execCommand("echo bypass")])), reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "--dangerously-bypass-approvals-and-sandbox", "go"], { home, cwd: makeDir() });
    expect(r.code).toBe(0);
    expect(items(r.events, "item.completed", "command_execution")[0]).toMatchObject({ aggregated_output: "bypass\n", exit_code: 0 });
  }, T);

  // ---------------------------------------------------------------- model errors and retries

  test("HTTP 500 then success: retried, 2 POSTs, exit 0", async () => {
    const { mock, home } = await setup([http(500, { error: { message: "boom", type: "server_error" } }), reply("Recovered.")]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(2);
    expect(checkEventStream(r.events)).toEqual([]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Recovered."]);
    expect(lastEvent(r.events).type).toBe("turn.completed");
  }, T);

  test("HTTP 429 with Retry-After: 1 then success: Reconnecting event, waits about a second", async () => {
    const { mock, home } = await setup(
      [http(429, { error: { message: "Rate limit reached", type: "rate_limit_error" } }, { "retry-after": "1" }), reply("After the wait.")],
      { stream_max_retries: 2 },
    );
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(2);
    expect(mock.requests[1]!.at - mock.requests[0]!.at).toBeGreaterThanOrEqual(900);
    const errors = (r.events ?? []).filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toStartWith("Reconnecting... 1/2");
    expect(checkEventStream(r.events)).toEqual([]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["After the wait."]);
  }, T);

  test("disconnect mid-stream then success: Reconnecting event, received items are kept", async () => {
    const rs = reasoning("Planning the run");
    const { mock, home } = await setup([sse(turn([rs]), { disconnect: true }), reply("Recovered after disconnect.")], { stream_max_retries: 2 });
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(2);
    const errors = (r.events ?? []).filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toStartWith("Reconnecting... 1/2");
    expect(errors[0].message).toContain("stream disconnected before completion");
    expect(items(r.events, "item.completed", "reasoning").map((i) => i.text)).toEqual(["Planning the run"]);
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Recovered after disconnect."]);
    expect(checkEventStream(r.events)).toEqual([]);
    // The reasoning item received before the disconnect is part of the retry's input.
    const kept = inputItems(mock.requests[1]!.body, "reasoning");
    expect(kept).toHaveLength(1);
    expect(kept[0].encrypted_content).toBe((rs as any).encrypted_content);
    expect(messageTexts(mock.requests[1]!.body, "user")).toContain("hi");
  }, T);

  test("connection reset mid-stream then success", async () => {
    const { mock, home } = await setup([sse(turn([reasoning("Thinking")]), { disconnect: "abort" }), reply("Back.")], { stream_max_retries: 2 });
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(2);
    expect((r.events ?? []).filter((e) => e.type === "error").map((e) => e.message)[0]).toStartWith("Reconnecting... 1/2");
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["Back."]);
  }, T);

  test("response.failed with a non-retryable code: exit 1, error + turn.failed", async () => {
    const { mock, home } = await setup([sse(failed("invalid_prompt", "Bad prompt here"))], { stream_max_retries: 2 });
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(1);
    expect(mock.requests).toHaveLength(1);
    expect(checkEventStream(r.events)).toEqual([]);
    expect(r.events!.filter((e) => e.type === "error").map((e) => e.message)).toContain("Bad prompt here");
    expect(lastEvent(r.events)).toEqual({
      type: "turn.failed",
      error: { message: "Bad prompt here", code: "model_error" },
      run_usage: { input_tokens: 0, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0 },
      model_requests: 1,
      tool_calls: 0,
    });
  }, T);

  test("HTTP 400: exit 1, the body text is in the error", async () => {
    const { mock, home } = await setup([http(400, { error: { message: "Invalid 'input': bad thing", type: "invalid_request_error" } })]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home });
    expect(r.code).toBe(1);
    expect(mock.requests).toHaveLength(1);
    expect(checkEventStream(r.events)).toEqual([]);
    const last = lastEvent(r.events);
    expect(last).toMatchObject({ type: "turn.failed", error: { code: "model_error" } });
    expect(last.error.message).toContain("Invalid 'input': bad thing");
  }, T);

  // ---------------------------------------------------------------- preconditions

  test("no API key: exit 4 and no request is made", async () => {
    const { mock, home } = await setup([reply("unreachable")]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home, env: { CODEX_API_KEY: undefined } });
    expect(r.code).toBe(4);
    expect(mock.requests).toHaveLength(0);
    expect(r.events).toBeDefined(); // stdout stays JSONL even on failure
    for (const e of r.events!.filter((e) => e.type === "turn.failed")) expect(e.error.code).toBe("auth");
    expect(r.stderr.length + r.stdout.length).toBeGreaterThan(0);
  }, T);

  test("not a git repo: exit 3 with the reference message, nothing on stdout", async () => {
    const { mock, home } = await setup([reply("unreachable")]);
    const r = await runOcx(["exec", ...JSON_, "hi"], { home, cwd: makeDir() });
    expect(r.code).toBe(3);
    // stdin is /dev/null here: the notice waits with the run's output, and still comes first.
    expect(r.stderr).toBe("Reading additional input from stdin...\nError: Not inside a trusted directory and --skip-git-repo-check was not specified.\n");
    expect(r.stdout).toBe("");
    expect(mock.requests).toHaveLength(0);
  }, T);

  test("not a git repo with --skip-git-repo-check: exit 0", async () => {
    const { mock, home } = await setup([reply("Fine outside git.")]);
    const r = await runOcx(["exec", "--color", "never", "--skip-git-repo-check", "hi"], { home, cwd: makeDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Fine outside git.\n");
    expect(mock.requests).toHaveLength(1);
  }, T);

  test("-C into a git repo passes the git check from outside one", async () => {
    const { home } = await setup([reply("From -C.")]);
    const r = await runOcx(["exec", "--color", "never", "-C", makeRepo(), "hi"], { home, cwd: makeDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("From -C.\n");
  }, T);

  // ---------------------------------------------------------------- prompt and stdin

  test("prompt plus piped stdin: the model receives P + <stdin> block", async () => {
    const { mock, home } = await setup([reply("ok")]);
    const r = await runOcx(["exec", ...JSON_, "Summarize"], { home, stdin: "line one\nline two" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Reading additional input from stdin...");
    expect(messageTexts(mock.requests[0]!.body, "user")).toContain("Summarize\n\n<stdin>\nline one\nline two\n</stdin>");
  }, T);

  test("stdin only: the prompt is stdin verbatim", async () => {
    const { mock, home } = await setup([reply("ok")]);
    const r = await runOcx(["exec", ...JSON_], { home, stdin: "Do the thing\nwith care\n" });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Reading prompt from stdin...");
    expect(messageTexts(mock.requests[0]!.body, "user")).toContain("Do the thing\nwith care\n");
  }, T);

  test("idle never-closed stdin with a prompt and --stdin-timeout 300: finishes, notice on stderr", async () => {
    const { mock, home } = await setup([reply("Did not hang.")]);
    const r = await runOcx(["exec", "--color", "never", "--stdin-timeout", "300", "Just the prompt"], { home, stdin: "idle", timeoutMs: 20_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Did not hang.\n");
    const user = messageTexts(mock.requests[0]!.body, "user");
    expect(user).toContain("Just the prompt");
    expect(user.some((t) => t.includes("<stdin>"))).toBe(false);
    const notices = r.stderr.split("\n").filter((l) => /stdin/i.test(l) && !l.includes("Reading additional input from stdin..."));
    expect(notices.length).toBeGreaterThan(0);
  }, T);

  // ---------------------------------------------------------------- -o FILE

  test("-o FILE holds the last message with no trailing newline", async () => {
    const out = join(makeDir(), "last.txt");
    const { home } = await setup([sse(turn([message("First thought."), message("Final answer.")]))]);
    const r = await runOcx(["exec", ...JSON_, "-o", out, "hi"], { home });
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("Final answer.");
    expect(items(r.events, "item.completed", "agent_message").map((i) => i.text)).toEqual(["First thought.", "Final answer."]);
  }, T);

  test("-o FILE when the turn fails: empty file and a warning", async () => {
    const out = join(makeDir(), "last.txt");
    const { home } = await setup([sse(failed("invalid_prompt", "Bad prompt here"))]);
    const r = await runOcx(["exec", "--color", "never", "-o", out, "hi"], { home });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).size).toBe(0);
    expect(r.stderr).toContain(`Warning: no last agent message; wrote empty content to ${out}`);
    expect(r.stderr).toContain("Bad prompt here");
  }, T);

  test("-o FILE when the turn completes without an agent message: empty file and a warning", async () => {
    const out = join(makeDir(), "last.txt");
    const { home } = await setup([sse(turn([reasoning("Only thinking")]))]);
    const r = await runOcx(["exec", "--color", "never", "-o", out, "hi"], { home });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(existsSync(out)).toBe(true);
    expect(statSync(out).size).toBe(0);
    expect(r.stderr).toContain(`Warning: no last agent message; wrote empty content to ${out}`);
  }, T);

  // ---------------------------------------------------------------- signals

  test("SIGINT while the model stream hangs: exit 130, turn.failed interrupted", async () => {
    const { mock, home } = await setup([sse(turn([reasoning("Thinking slowly")]).slice(0, 3), { hang: true })]);
    const r = await runOcx(["exec", ...JSON_, "hi"], {
      home,
      signalAfter: { signal: "SIGINT", after: async () => (await mock.waitForRequests(1), await Bun.sleep(300)) },
    });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(130);
    expect(lastEvent(r.events)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
    expect(checkEventStream(r.events)).toEqual([]);
  }, T);

  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(`${sig} mid-command: exit ${code}, turn.failed interrupted, the command's processes are gone`, async () => {
    const dir = makeRepo();
    const shellPid = join(dir, "shell.pid");
    const childPid = join(dir, "child.pid");
    const cmd = `sleep 60 & echo $! > ${childPid}; echo $$ > ${shellPid}; wait`;
    const { mock, home } = await setup([sse(turn([execCommand(cmd, { yield_time_ms: 30000 }, "call_sleep")])), reply("should not get here")]);
    let pids: number[] = [];
    try {
      const r = await runOcx(["exec", ...JSON_, ...FULL, "sleep a while"], {
        home,
        cwd: dir,
        signalAfter: {
          signal: sig,
          after: async () => {
            await mock.waitForRequests(1);
            await waitFor(() => readPid(shellPid) !== undefined && readPid(childPid) !== undefined, 15_000, "the command to start");
            pids = [readPid(shellPid)!, readPid(childPid)!];
            await Bun.sleep(200);
          },
        },
      });
      expect(pids).toHaveLength(2);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(code);
      expect(r.events).toBeDefined();
      expect(lastEvent(r.events)).toMatchObject({ type: "turn.failed", error: { code: "interrupted" } });
      expect(checkEventStream(r.events)).toEqual([]);
      // ocx stops its children before exiting; allow a moment for them to be reaped.
      await waitFor(() => pids.every((p) => !processAlive(p)), 3_000, "the command's processes to go").catch(() => {});
      expect(pids.filter((p) => processAlive(p))).toEqual([]);
    } finally {
      for (const p of pids) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          // gone, as it should be
        }
      }
    }
  }, T);
  }
});
