// Context compaction on the compiled binary: at the auto-compact limit (mid-turn), after the
// provider's context-window error (once; twice fails the turn), on the chat wire, the server-side
// path of a provider named OpenAI, and resume from ocx's and the reference's `compacted` lines.
import { afterAll, describe, expect, test } from "bun:test";
import { chat } from "../mock/chat.ts";
import { execCommand, failed, http, messageTexts, reply, sse, turn, usage, type SseEvent } from "../mock/responses-server.ts";
import { checkEventStream, cleanupTemp, join, makeDir, makeRepo, mkdirSync, readFileSync, runOcx, useMockServers, writeFileSync, rollouts, threadId } from "./harness.ts";

const T = 30_000;
const JSON_ = ["--json", "--color", "never", "--sandbox", "danger-full-access"];
const setup = useMockServers();
afterAll(() => cleanupTemp());

const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n").map((l) => JSON.parse(l));
/** A 40 000-character command output that fills the history. */
const BIG = "head -c 40000 /dev/zero | tr '\\0' x";
const SUMMARY = "HANDOFF: printed 40000 x characters, then ran echo two; next: report.";
/** A summarisation request: the history plus ocx's instructions, no tools. */
const isSummaryRequest = (body: any) => Array.isArray(body?.tools) && body.tools.length === 0 && JSON.stringify(body.input.at(-1)).includes("handoff note");
const size = (body: any) => JSON.stringify(body.input).length;
const types = (body: any) => (body.input as any[]).map((i) => i.type);

describe("compaction at the limit", () => {
  test("90% of model_context_window: the next request holds the prompt, the summary and the pending result, is under the limit, and resume continues from it", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([
      sse(turn([execCommand(BIG, {}, "call_big")], usage(5000, 50))),
      sse(turn([execCommand("echo two", {}, "call_two")], usage(18500, 50))),
      reply(SUMMARY, usage(3000, 200)),
      reply("all done", usage(2000, 20)),
      reply("resumed", usage(2500, 10)),
    ]);
    const r = await runOcx(["exec", ...JSON_, "-c", "model_context_window=20000", "fill the context"], { home, cwd: repo });
    expect(r.stderr).not.toContain("    at ");
    expect(r.code).toBe(0);
    expect(checkEventStream(r.events)).toEqual([]);
    // --json shows nothing for compaction.
    expect(r.events!.map((e) => e.type)).not.toContain("compacted");
    expect(r.events!.filter((e) => e.type === "item.completed").map((e) => e.item.type)).toEqual(["command_execution", "command_execution", "agent_message"]);
    expect(mock.requests).toHaveLength(4);
    const [, second, compaction, after] = mock.requests.map((q) => q.body);
    expect(isSummaryRequest(compaction)).toBe(true);
    expect(compaction.parallel_tool_calls).toBe(false);
    // The summarisation request holds the whole history.
    expect(types(compaction)).toEqual([...types(second), "function_call", "function_call_output", "message"]);
    // After: the prompt and the summary; the answered big call is gone, the pending one kept.
    const texts = messageTexts(after).join("\n");
    expect(texts).toContain("fill the context");
    expect(texts).toContain(SUMMARY);
    expect(texts).toContain("<environment_context>");
    expect(JSON.stringify(after.input)).not.toContain("x".repeat(1000));
    expect(after.input.filter((i: any) => i.type === "function_call").map((i: any) => i.call_id)).toEqual(["call_two"]);
    expect(after.input.find((i: any) => i.type === "function_call_output")).toMatchObject({ call_id: "call_two" });
    expect(after.tools.length).toBeGreaterThan(0);
    expect(size(after) / 4).toBeLessThan(18000);
    expect(size(after)).toBeLessThan(size(second));
    // The compaction request's usage counts.
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed", usage: { input_tokens: 5000 + 18500 + 3000 + 2000 } });
    // The rollout keeps everything and records the compaction.
    const file = rollouts(home)[0]!;
    const ls = lines(file);
    expect(ls.filter((l) => l.type === "response_item" && l.payload.type === "function_call")).toHaveLength(2);
    const compacted = ls.filter((l) => l.type === "compacted");
    expect(compacted).toHaveLength(1);
    expect(compacted[0].payload.replacement_history).toEqual(after.input);
    expect(compacted[0].payload.message).toContain(SUMMARY);

    const again = await runOcx(["exec", "resume", threadId(r.events), ...JSON_, "-c", "model_context_window=20000", "and now?"], { home, cwd: repo });
    expect(again.code).toBe(0);
    expect(mock.requests).toHaveLength(5);
    const resumed = mock.requests[4]!.body;
    expect(resumed.input.slice(0, after.input.length)).toEqual(after.input);
    expect(resumed.input.at(-2)).toMatchObject({ role: "assistant", content: [{ text: "all done" }] });
    expect(resumed.input.at(-1)).toMatchObject({ role: "user", content: [{ text: "and now?" }] });
    expect(JSON.stringify(resumed.input)).not.toContain("x".repeat(1000));
  }, T);

  test("pre-turn: a resumed thread already over the limit is compacted without the new prompt, which follows the summary", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([
      sse(turn([execCommand(BIG, {}, "call_big")], usage(1000, 50))),
      reply("first done", usage(1500, 10)),
      reply(SUMMARY, usage(11000, 100)),
      reply("second done", usage(800, 10)),
      reply("third done", usage(900, 10)),
    ]);
    const r = await runOcx(["exec", ...JSON_, "first"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const id = threadId(r.events);
    const resume = (prompt: string) => runOcx(["exec", "resume", id, ...JSON_, "-c", "model_auto_compact_token_limit=8000", prompt], { home, cwd: repo });
    const second = await resume("second");
    expect(second.code).toBe(0);
    expect(mock.requests).toHaveLength(4);
    const summarise = mock.requests[2]!.body;
    expect(isSummaryRequest(summarise)).toBe(true);
    expect(messageTexts(summarise).join("\n")).not.toContain("second");
    const next = mock.requests[3]!.body;
    expect(next.input.at(-1)).toMatchObject({ role: "user", content: [{ text: "second" }] });
    expect(JSON.stringify(next.input.at(-2))).toContain(SUMMARY);
    expect(JSON.stringify(next.input)).not.toContain("x".repeat(1000));
    expect(next.input.filter((i: any) => i.type === "function_call")).toEqual([]);
    // The compacted line holds the new prompt too: the next resume keeps it.
    const third = await resume("third");
    expect(third.code).toBe(0);
    expect(mock.requests).toHaveLength(5);
    const last = mock.requests[4]!.body;
    expect(messageTexts(last)).toEqual(expect.arrayContaining(["first", "second", "third"]));
    expect(last.input.slice(0, next.input.length)).toEqual(next.input);
  }, T);

  test("below the limit nothing is compacted; human mode says `context compacted` on stderr when it is", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([sse(turn([execCommand("echo one", {}, "c1")], usage(17500, 50))), reply("fine")]);
    const r = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "-c", "model_context_window=20000", "stay small"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(2);
    expect(r.stderr).not.toContain("context compacted");
    expect(lines(rollouts(home)[0]!).some((l) => l.type === "compacted")).toBe(false);

    const big = await setup([sse(turn([execCommand("echo one", {}, "c1")], usage(12000, 50))), reply(SUMMARY), reply("fine")]);
    const custom = "Summarise briefly, please. handoff note";
    const h = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "-c", "model_auto_compact_token_limit=10000", "-c", `compact_prompt="${custom}"`, "--strict-config", "grow"], { home: big.home, cwd: repo });
    expect(h.code).toBe(0);
    expect(h.stderr).toMatch(/^context compacted/m);
    expect(h.stdout).toBe("fine\n");
    expect(big.mock.requests).toHaveLength(3);
    expect(isSummaryRequest(big.mock.requests[1]!.body)).toBe(true);
    // compact_prompt replaces ocx's instructions.
    expect(big.mock.requests[1]!.body.input.at(-1)).toEqual({ type: "message", role: "user", content: [{ type: "input_text", text: custom }] });
  }, T);

  test("a wrong value of the keys is a config error naming the key (exit 3)", async () => {
    const { home } = await setup([]);
    const r = await runOcx(["exec", "-c", "model_context_window=-5", "hi"], { home });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("model_context_window");
    expect(r.stderr).not.toContain("    at ");
  }, T);
});

describe("the provider's context-window error", () => {
  const tooLong = () => sse(failed("context_length_exceeded", "Your input exceeds the context window of this model. Please adjust your input and try again."));

  test("once (response.failed): ocx compacts and sends the request again; the turn completes", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([sse(turn([execCommand("echo one", {}, "c1")])), tooLong(), reply(SUMMARY), reply("recovered")]);
    const r = await runOcx(["exec", ...JSON_, "work hard"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(4);
    expect(isSummaryRequest(mock.requests[2]!.body)).toBe(true);
    const last = mock.requests[3]!.body;
    expect(messageTexts(last).join("\n")).toContain(SUMMARY);
    expect(messageTexts(last).join("\n")).toContain("work hard");
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed" });
    expect(r.events!.some((e) => e.type === "error")).toBe(false);
  }, T);

  test("once (response.failed saying so in words, with another code or none): ocx compacts instead of retrying; the turn completes", async () => {
    const repo = makeRepo();
    // A local server's wording, as vLLM gives it, without OpenAI's code.
    const words = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.";
    for (const code of ["server_error", undefined]) {
      const tooLongInWords = sse(failed(code, words));
      const { mock, home } = await setup([sse(turn([execCommand("echo one", {}, "c1")])), tooLongInWords, reply(SUMMARY), reply("recovered")]);
      const r = await runOcx(["exec", ...JSON_, "work hard"], { home, cwd: repo });
      expect(r.code).toBe(0);
      expect(mock.requests).toHaveLength(4);
      expect(isSummaryRequest(mock.requests[2]!.body)).toBe(true);
      expect(messageTexts(mock.requests[3]!.body).join("\n")).toContain(SUMMARY);
      expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed" });
      expect(r.events!.some((e) => e.type === "error" && String(e.message).includes("Reconnecting"))).toBe(false);
    }
  }, T);

  test("once (HTTP 400 context_length_exceeded): compaction, then success", async () => {
    const repo = makeRepo();
    const body = { error: { message: "Your input exceeds the context window of this model.", type: "invalid_request_error", param: "input", code: "context_length_exceeded" } };
    const { mock, home } = await setup([sse(turn([execCommand("echo one", {}, "c1")])), http(400, body), reply(SUMMARY), reply("recovered")]);
    const r = await runOcx(["exec", ...JSON_, "work hard"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(4);
    expect(isSummaryRequest(mock.requests[2]!.body)).toBe(true);
  }, T);

  test("twice: the turn fails with one clear line (exit 1)", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([sse(turn([execCommand("echo one", {}, "c1")])), tooLong(), reply(SUMMARY), tooLong()]);
    const r = await runOcx(["exec", ...JSON_, "work hard"], { home, cwd: repo });
    expect(r.code).toBe(1);
    expect(mock.requests).toHaveLength(4);
    const failedEvent = r.events!.at(-1);
    expect(failedEvent.type).toBe("turn.failed");
    expect(failedEvent.error.message).toContain("does not fit the model's context window even after compacting it");
    expect(r.stderr).not.toContain("    at ");

    const human = await setup([sse(turn([execCommand("echo one", {}, "c1")])), tooLong(), reply(SUMMARY), tooLong()]);
    const h = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "work hard"], { home: human.home, cwd: repo });
    expect(h.code).toBe(1);
    expect(h.stdout).toBe("");
    expect(h.stderr).toMatch(/^context compacted/m);
    expect(h.stderr.split("\n").filter((l) => l.startsWith("ERROR: "))).toEqual([expect.stringContaining("does not fit the model's context window even after compacting it")]);
    expect(h.stderr).not.toContain("    at ");
  }, T);
});

describe("other wires and providers", () => {
  test("chat wire: reported usage plus the estimated size of a large tool result reach the limit: a summarisation request to the same model without tools, then the summary", async () => {
    const repo = makeRepo();
    const { mock } = await setup([
      chat({ toolCalls: [{ id: "c1", name: "exec_command", args: { cmd: BIG } }], usage: { prompt_tokens: 2000, completion_tokens: 20 } }),
      chat({ text: SUMMARY, usage: { prompt_tokens: 9500, completion_tokens: 40 } }),
      chat({ text: "chat done", usage: { prompt_tokens: 500, completion_tokens: 5 } }),
    ]);
    const home = makeDir("home-");
    writeFileSync(
      join(home, "config.toml"),
      [`model = "local-model"`, `model_provider = "llama"`, `model_context_window = 10000`, `[model_providers.llama]`, `name = "llama.cpp"`, `base_url = "${mock.url}"`, `wire_api = "chat"`, ""].join("\n"),
    );
    const r = await runOcx(["exec", "--color", "never", "-s", "danger-full-access", "chat task"], { home, cwd: repo, env: { CODEX_API_KEY: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("chat done\n");
    expect(r.stderr).toMatch(/^context compacted/m);
    expect(mock.requests).toHaveLength(3);
    const [, summarise, next] = mock.requests.map((q) => q.body);
    expect(summarise.model).toBe("local-model");
    expect(summarise.tools).toBeUndefined();
    expect(summarise.messages.at(-1).content).toContain("handoff note");
    const texts = next.messages.map((m: any) => String(m.content)).join("\n");
    expect(texts).toContain(SUMMARY);
    expect(texts).toContain("chat task");
    // The pending call and its result stay, as a tool call and a tool message, shortened.
    const tool = next.messages.filter((m: any) => m.role === "tool");
    expect(tool.map((m: any) => m.tool_call_id)).toEqual(["c1"]);
    expect(tool[0].content).toContain("characters removed by ocx compaction");
    expect(tool[0].content.length).toBeLessThan(10_000);
    expect(JSON.stringify(next).length).toBeLessThan(JSON.stringify(summarise).length - 20_000);
  }, T);

  test("chat wire: llama.cpp's context-size error (HTTP 400) compacts once, then the turn completes", async () => {
    const repo = makeRepo();
    const llamaError = { error: { code: 400, message: "the request exceeds the available context size, try increasing it", type: "exceed_context_size_error", n_prompt_tokens: 5000, n_ctx: 4096 } };
    const { mock } = await setup([
      chat({ toolCalls: [{ id: "c1", name: "exec_command", args: { cmd: "echo one" } }] }),
      http(400, llamaError),
      chat({ text: SUMMARY }),
      chat({ text: "fits now" }),
    ]);
    const home = makeDir("home-");
    writeFileSync(join(home, "config.toml"), [`model = "local-model"`, `model_provider = "llama"`, `[model_providers.llama]`, `name = "llama.cpp"`, `base_url = "${mock.url}"`, `wire_api = "chat"`, ""].join("\n"));
    const r = await runOcx(["exec", ...JSON_, "small task"], { home, cwd: repo, env: { CODEX_API_KEY: undefined } });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(4);
    expect(mock.requests[2]!.body.tools).toBeUndefined();
    expect(JSON.stringify(mock.requests[3]!.body.messages)).toContain(SUMMARY);
    expect(r.events!.filter((e) => e.type === "item.completed" && e.item.type === "agent_message").map((e) => e.item.text)).toEqual(["fits now"]);
  }, T);

  test("a provider named OpenAI: compaction_trigger, one compaction item back, kept in the next request; its usage is not counted", async () => {
    const repo = makeRepo();
    const compactionItem = { type: "compaction", id: "cmp_1", encrypted_content: "ENC-opaque" };
    const compactionResponse: SseEvent[] = [
      { type: "response.created", response: { id: "resp_c", status: "in_progress", output: [] } },
      { type: "response.output_item.done", output_index: 0, item: compactionItem },
      { type: "response.completed", response: { id: "resp_c", status: "completed", output: [compactionItem], usage: usage(3000, 100) } },
    ];
    const { mock } = await setup([sse(turn([execCommand("echo one", {}, "c1")], usage(19000, 50))), sse(compactionResponse), reply("remote done", usage(1000, 10))]);
    const home = makeDir("home-");
    writeFileSync(
      join(home, "config.toml"),
      [`model = "gpt-5.5"`, `model_provider = "oa"`, `model_context_window = 20000`, `[model_providers.oa]`, `name = "OpenAI"`, `base_url = "${mock.url}"`, `env_key = "CODEX_API_KEY"`, `wire_api = "responses"`, ""].join("\n"),
    );
    const r = await runOcx(["exec", ...JSON_, "remote task"], { home, cwd: repo });
    expect(r.code).toBe(0);
    expect(mock.requests).toHaveLength(3);
    const trigger = mock.requests[1]!;
    expect(trigger.body.input.at(-1)).toEqual({ type: "compaction_trigger" });
    expect(trigger.headers["x-codex-beta-features"]).toBe("remote_compaction_v2");
    expect(trigger.body.tools.length).toBeGreaterThan(0);
    const next = mock.requests[2]!.body;
    expect(next.input).toContainEqual(compactionItem);
    expect(messageTexts(next).join("\n")).toContain("remote task");
    expect(r.events!.at(-1)).toMatchObject({ type: "turn.completed", usage: { input_tokens: 20000 } });
  }, T);

  test("a provider named OpenAI that answers anything but one compaction item fails the turn (exit 1)", async () => {
    const repo = makeRepo();
    const { home: _unused, mock } = await setup([sse(turn([execCommand("echo one", {}, "c1")], usage(19000, 50))), reply("not a compaction")]);
    const home = makeDir("home-");
    writeFileSync(
      join(home, "config.toml"),
      [`model_provider = "oa"`, `model_context_window = 20000`, `[model_providers.oa]`, `name = "OpenAI"`, `base_url = "${mock.url}"`, `env_key = "CODEX_API_KEY"`, ""].join("\n"),
    );
    const r = await runOcx(["exec", ...JSON_, "remote task"], { home, cwd: repo });
    expect(r.code).toBe(1);
    expect(r.events!.at(-1).error.message).toContain("exactly one compaction item, got 0 among 1 output items");
  }, T);
});

describe("a rollout with the reference's compaction record", () => {
  test("resumes from its replacement_history, not from the items before it", async () => {
    const repo = makeRepo();
    const { mock, home } = await setup([reply("continued")]);
    const id = "019ab3c1-7e2a-7b40-9c55-3f1e2d4c5b6b";
    const dir = join(home, "sessions", "2026", "11", "20");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `rollout-2026-11-20T10-00-00-${id}.jsonl`);
    const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });
    const env = user(`<environment_context>\n  <cwd>${repo}</cwd>\n</environment_context>`);
    const summary = user("Another language model started to solve this problem and produced a summary of its thinking process.\nREF SUMMARY: counted 12 files.");
    const replacement = [{ type: "message", role: "developer", content: [{ type: "input_text", text: "<permissions instructions>x</permissions instructions>" }] }, env, user("count the files"), summary];
    const ls = [
      { type: "session_meta", payload: { id, session_id: id, timestamp: "2026-11-20T10:00:00.000Z", cwd: repo, originator: "codex_exec", cli_version: "0.171.0", source: "exec", model_provider: "mock" } },
      { type: "response_item", payload: env },
      { type: "response_item", payload: user("count the files") },
      { type: "turn_context", payload: { turn_id: "t1", cwd: repo, approval_policy: "never", sandbox_policy: { type: "read-only" }, model: "gpt-5.5" } },
      { type: "response_item", payload: { type: "function_call", call_id: "call_old", name: "exec_command", arguments: "{\"cmd\":\"ls\"}" } },
      { type: "response_item", payload: { type: "function_call_output", call_id: "call_old", output: "OLD-OUTPUT-SHOULD-GO" } },
      {
        type: "compacted",
        payload: {
          message: summary.content[0]!.text,
          replacement_history: replacement,
          window_number: 1,
          first_window_id: "w0",
          previous_window_id: "w0",
          window_id: "w1",
          compaction_response_id: "resp_x",
        },
      },
      { type: "response_item", payload: { type: "message", role: "assistant", content: [{ type: "output_text", text: "There are 12 files." }] } },
      { type: "event_msg", payload: { type: "task_complete", turn_id: "t1", last_agent_message: "There are 12 files." } },
    ].map((l, i) => JSON.stringify({ timestamp: "2026-11-20T10:00:01.000Z", ordinal: i, ...l }));
    writeFileSync(file, `${ls.join("\n")}\n`);
    const r = await runOcx(["exec", "resume", id, ...JSON_, "and the folders?"], { home, cwd: repo });
    expect(r.code).toBe(0);
    const input = mock.requests[0]!.body.input as any[];
    expect(input.slice(0, replacement.length)).toEqual(replacement);
    expect(input[replacement.length]).toMatchObject({ role: "assistant", content: [{ text: "There are 12 files." }] });
    expect(JSON.stringify(input)).not.toContain("OLD-OUTPUT-SHOULD-GO");
    expect(input.at(-1)).toMatchObject({ role: "user", content: [{ text: "and the folders?" }] });
  }, T);
});
