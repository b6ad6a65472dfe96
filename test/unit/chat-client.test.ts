import { describe, expect, test } from "bun:test";
import { buildChatBody, readChatParts, toMessages } from "../../src/core/model/chat.ts";
import { openEvents } from "../../src/core/model/responses.ts";
import { ModelError, type ProviderInfo, type StreamPart } from "../../src/core/model/types.ts";

const body = (...lines: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const l of lines) c.enqueue(new TextEncoder().encode(`data: ${l}\n\n`));
      c.close();
    },
  });
async function parts(stream: ReadableStream<Uint8Array>) {
  const out: StreamPart[] = [];
  try {
    for await (const p of readChatParts(openEvents(stream, new AbortController().signal, { provider: { streamIdleTimeoutMs: 5000 } as ProviderInfo }))) out.push(p);
  } catch (e) {
    return { out, error: e };
  }
  return { out, error: undefined };
}
const delta = (d: object, finish: string | null = null) => JSON.stringify({ id: "c1", choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe("history to chat messages", () => {
  test("instructions, roles, calls of one response in one assistant message, outputs as tool messages, images after them", () => {
    const msgs = toMessages("be brief", [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "dev note" }] },
      { type: "message", role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64,AA", detail: "original" }, { type: "input_text", text: "look" }] },
      { type: "reasoning", summary: [] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "checking" }] },
      { type: "function_call", call_id: "c1", name: "exec_command", arguments: '{"cmd":"ls"}' },
      { type: "custom_tool_call", call_id: "c2", name: "apply_patch", input: "*** Begin Patch" },
      { type: "function_call_output", call_id: "c1", output: "a\nb" },
      { type: "custom_tool_call_output", call_id: "c2", output: [{ type: "input_text", text: "done" }, { type: "input_image", image_url: "data:image/png;base64,BB" }] },
      { type: "function_call", call_id: "c3", name: "view_image", arguments: "{}" },
    ]);
    expect(msgs).toEqual([
      { role: "system", content: "be brief" },
      { role: "system", content: "dev note" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AA" } }, { type: "text", text: "look" }] },
      {
        role: "assistant",
        content: "checking",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "exec_command", arguments: '{"cmd":"ls"}' } },
          { id: "c2", type: "function", function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "a\nb" },
      { role: "tool", tool_call_id: "c2", content: "done" },
      { role: "user", content: [{ type: "text", text: "Images returned by the tool calls above:" }, { type: "image_url", image_url: { url: "data:image/png;base64,BB" } }] },
      { role: "assistant", content: null, tool_calls: [{ id: "c3", type: "function", function: { name: "view_image", arguments: "{}" } }] },
    ]);
  });

  test("structured output becomes response_format; no tools means no tool fields", () => {
    const b = buildChatBody({
      model: "m",
      instructions: "",
      input: [],
      tools: [],
      parallelToolCalls: true,
      threadId: "t",
      textFormat: { type: "json_schema", name: "out", strict: true, schema: { type: "object" } },
    });
    expect(b.response_format).toEqual({ type: "json_schema", json_schema: { name: "out", schema: { type: "object" }, strict: true } });
    expect("tools" in b).toBe(false);
    expect(b.messages).toEqual([]);
  });
});

describe("chat stream to parts", () => {
  test("a call without an id gets one; object arguments are serialised; calls come out in index order", async () => {
    const { out, error } = await parts(
      body(
        delta({ tool_calls: [{ index: 1, function: { name: "b", arguments: { x: 1 } } }] }),
        delta({ tool_calls: [{ index: 0, id: "id0", function: { name: "a", arguments: '{"y"' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: ":2}" } }] }, "tool_calls"),
        "[DONE]",
      ),
    );
    expect(error).toBeUndefined();
    const calls = out.filter((p) => p.type === "item-done").map((p) => (p as any).item);
    expect(calls).toEqual([
      { type: "function_call", call_id: "id0", name: "a", arguments: '{"y":2}' },
      { type: "function_call", call_id: "call_c1_1", name: "b", arguments: '{"x":1}' },
    ]);
    expect(out.at(-1)).toMatchObject({ type: "completed", responseId: "c1" });
  });

  test("an error chunk, EOF without a finish reason, and a length stop are errors", async () => {
    const e1 = (await parts(body(JSON.stringify({ error: { message: "server overloaded" } })))).error as ModelError;
    expect([e1.kind, e1.message]).toEqual(["retryable", "stream disconnected before completion: server overloaded"]);
    const e2 = (await parts(body(delta({ content: "hal" })))).error as ModelError;
    expect(e2.kind).toBe("retryable");
    const e3 = (await parts(body(delta({}, "length"), "[DONE]"))).error as ModelError;
    expect(e3.kind).toBe("fatal");
    expect(e3.message).toContain("finish_reason: length");
  });

  test("servers that send `reasoning` instead of `reasoning_content`", async () => {
    const { out } = await parts(body(delta({ reasoning: "hmm" }), delta({ content: "ok" }, "stop"), "[DONE]"));
    expect(out.map((p) => p.type)).toEqual(["created", "item-done", "item-done", "completed"]);
    expect(out[1]).toMatchObject({ item: { type: "reasoning", content: [{ type: "reasoning_text", text: "hmm" }] } });
  });
});
