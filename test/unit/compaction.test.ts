import { describe, expect, test } from "bun:test";
import {
  SUMMARY_PREAMBLE,
  autoCompactLimit,
  estimateTokens,
  historyAfterCompacted,
  isSummaryMessage,
  replacementHistory,
  summaryMessage,
  summaryText,
  userText,
} from "../../src/core/agent/compaction.ts";
import type { ResponseItem } from "../../src/core/model/types.ts";
import { parseRollout } from "../../src/core/session/rollout.ts";

const assistant = (text: string): ResponseItem => ({ type: "message", role: "assistant", content: [{ type: "output_text", text }] });
const call = (id: string): ResponseItem => ({ type: "function_call", id: `fc_${id}`, call_id: id, name: "exec_command", arguments: "{}" });
const output = (id: string, text: string): ResponseItem => ({ type: "function_call_output", call_id: id, output: text });
const agents = userText("# AGENTS.md instructions for /repo\n\n<INSTRUCTIONS>be nice</INSTRUCTIONS>");
const env = userText("<environment_context>\n  <cwd>/repo</cwd>\n</environment_context>");

describe("the auto-compact limit", () => {
  test("model_auto_compact_token_limit wins, else 90% of model_context_window, else the model's known window, else none", () => {
    expect(autoCompactLimit({ limit: 5000, contextWindow: 20000, model: "gpt-5.5" })).toBe(5000);
    expect(autoCompactLimit({ contextWindow: 20000, model: "gpt-5.5" })).toBe(18000);
    expect(autoCompactLimit({ model: "gpt-5.5" })).toBe(244800);
    expect(autoCompactLimit({ model: "gpt-4o-mini" })).toBe(115200);
    expect(autoCompactLimit({ model: "my-local-model" })).toBeUndefined();
  });

  test("the estimate is about four bytes of JSON per token", () => {
    const item = userText("x".repeat(4000));
    expect(estimateTokens([item])).toBe(Math.ceil(JSON.stringify(item).length / 4));
    expect(estimateTokens([])).toBe(0);
  });
});

describe("the replacement history", () => {
  const history: ResponseItem[] = [
    agents,
    env,
    userText("fix the build"),
    { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "enc" },
    assistant("looking"),
    call("a"),
    output("a", "old result"),
    userText("also run the tests"),
    { type: "message", role: "developer", content: [{ type: "input_text", text: "dev" }] },
    { type: "reasoning", id: "rs_2", summary: [], encrypted_content: "enc" },
    call("b"),
    call("c"),
    output("b", "B".repeat(100_000)),
    output("c", "latest result"),
  ];

  test("context messages, the user's messages, the summary, then the last response's calls with their results (ids dropped, large results shortened)", () => {
    const summary = summaryMessage("did things");
    const out = replacementHistory(history, summary, { limit: 20000 });
    expect(out.slice(0, 5)).toEqual([agents, env, userText("fix the build"), userText("also run the tests"), summary]);
    const rest = out.slice(5);
    expect(rest.map((i) => `${i.type}:${i.call_id}`)).toEqual(["function_call:b", "function_call:c", "function_call_output:b", "function_call_output:c"]);
    expect(rest[0]).not.toHaveProperty("id");
    expect(String(rest[2]!.output).length).toBeLessThan(20_000);
    expect(String(rest[2]!.output)).toContain("characters removed by ocx compaction");
    expect(rest[3]!.output).toBe("latest result");
    expect(JSON.stringify(out)).not.toContain("old result");
    expect(JSON.stringify(out)).not.toContain("looking");
  });

  test("a history ending in an answer keeps no calls; an earlier summary is not kept as a user message", () => {
    const first = summaryMessage("first summary");
    const out = replacementHistory([env, userText("task"), first, assistant("done")], summaryMessage("second"));
    expect(out).toEqual([env, userText("task"), summaryMessage("second")]);
    expect(isSummaryMessage(first)).toBe(true);
    expect(isSummaryMessage(userText("Another language model started to solve this problem and ..."))).toBe(true);
    expect(isSummaryMessage(userText("task"))).toBe(false);
  });

  test("user messages are bounded: the first prompt is kept first, the latest next, the one that overflows is shortened", () => {
    const prompts = [userText("FIRST"), userText("y".repeat(200_000)), userText("LAST")];
    const out = replacementHistory(prompts, summaryMessage("s"), { limit: 20000 });
    const texts = out.map((i) => JSON.stringify(i));
    expect(texts[0]).toContain("FIRST");
    expect(texts[1]!.length).toBeLessThan(25_000);
    expect(texts[2]).toContain("LAST");
  });

  test("the summary request's answer is the text of its assistant messages; the message starts with ocx's preamble", () => {
    expect(summaryText([{ type: "reasoning" }, assistant("  the note \n")])).toBe("the note");
    expect(JSON.stringify(summaryMessage("n"))).toContain(SUMMARY_PREAMBLE);
  });
});

describe("resume after a compacted line", () => {
  const line = (type: string, payload: unknown) => JSON.stringify({ timestamp: "t", type, payload });
  const meta = line("session_meta", { id: "019ab3c1-7e2a-7b40-9c55-3f1e2d4c5b6a", cwd: "/repo" });

  test("replacement_history replaces the items before it; later items follow", () => {
    const text = [meta, line("response_item", userText("task")), line("response_item", call("a")), line("compacted", { message: "m", replacement_history: [userText("task"), userText("summary")] }), line("response_item", assistant("after"))].join("\n");
    expect(parseRollout(text).items).toEqual([userText("task"), userText("summary"), assistant("after")]);
  });

  test("an old-style record with only a message keeps the user messages and adds the message", () => {
    expect(historyAfterCompacted([userText("task"), call("a"), output("a", "o")], { message: "SUMMARY" })).toEqual([userText("task"), userText("SUMMARY")]);
  });
});

describe("context-window errors", () => {
  test("the code, llama.cpp's type and the usual wordings count; other errors do not", async () => {
    const { isContextWindowError } = await import("../../src/core/model/responses.ts");
    expect(isContextWindowError({ code: "context_length_exceeded" }, "")).toBe(true);
    expect(isContextWindowError({ type: "exceed_context_size_error", code: 400 }, "the request exceeds the available context size")).toBe(true);
    expect(isContextWindowError(undefined, "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.")).toBe(true);
    expect(isContextWindowError({ code: "invalid_prompt" }, "Invalid prompt: flagged")).toBe(false);
    expect(isContextWindowError(undefined, "Bad Request")).toBe(false);
  });
});
