import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { eventsSchemaText, SCHEMA_PATH } from "../../scripts/events-schema.ts";
import { eventSchemaProblems } from "../event-schema.ts";

describe("schema/events.schema.json", () => {
  test("is what src/core/events.ts generates (run `npm run schema` after changing events)", () => {
    expect(readFileSync(SCHEMA_PATH, "utf8")).toBe(eventsSchemaText());
  });

  const usage = { input_tokens: 10, cached_input_tokens: 0, cache_write_input_tokens: 0, output_tokens: 5, reasoning_output_tokens: 0 };
  const valid: unknown[] = [
    { type: "thread.started", thread_id: "0199a213-81c0-7800-8aa1-bbab2a035a53" },
    { type: "turn.started" },
    { type: "item.started", item: { id: "item_0", type: "command_execution", command: "ls", aggregated_output: "", exit_code: null, status: "in_progress" } },
    { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "done" } },
    { type: "item.completed", item: { id: "item_2", type: "file_change", changes: [{ path: "a.txt", kind: "add" }], status: "completed" } },
    { type: "item.updated", item: { id: "item_3", type: "todo_list", items: [{ text: "x", completed: false }] } },
    {
      type: "item.completed",
      item: { id: "item_4", type: "mcp_tool_call", server: "s", tool: "t", arguments: { a: 1 }, result: { content: [], structured_content: null }, error: null, status: "completed" },
    },
    { type: "turn.completed", usage },
    { type: "turn.completed", usage, run_usage: usage, model_requests: 1, tool_calls: 0, cost_usd: 0.01 },
    { type: "turn.failed", error: { message: "budget", code: "budget_exceeded" } },
    { type: "error", message: "stream disconnected" },
  ];
  test.each(valid.map((e) => [JSON.stringify(e), e]))("accepts %s", (_, e) => {
    expect(eventSchemaProblems(e)).toEqual([]);
  });

  const malformed: Array<[string, unknown]> = [
    ["an unknown event type", { type: "turn.paused" }],
    ["no type", { thread_id: "x" }],
    ["thread.started without thread_id", { type: "thread.started" }],
    ["a usage count that is a string", { type: "turn.completed", usage: { ...usage, output_tokens: "5" } }],
    ["turn.completed without usage", { type: "turn.completed" }],
    ["an unknown failure code", { type: "turn.failed", error: { message: "x", code: "oops" } }],
    ["an item of unknown type", { type: "item.completed", item: { id: "item_0", type: "web_page", text: "x" } }],
    ["a command status outside the list", { type: "item.completed", item: { id: "item_0", type: "command_execution", command: "ls", aggregated_output: "", exit_code: 0, status: "done" } }],
    ["an item without id", { type: "item.completed", item: { type: "agent_message", text: "x" } }],
    ["a file change of unknown kind", { type: "item.completed", item: { id: "item_0", type: "file_change", changes: [{ path: "a", kind: "rename" }], status: "completed" } }],
    ["not an object", ["turn.started"]],
    ["null", null],
  ];
  test.each(malformed)("rejects %s, naming the event", (_, e) => {
    const problems = eventSchemaProblems(e);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("does not match schema/events.schema.json");
    expect(problems[0]).not.toContain("\n");
  });
});
