// The --json contract: every event and item ocx emits, in one place (contract section 2).
// Key order matters for byte-compatibility with the reference: `type` first on events, `id` then
// `type` on items. The object literals built by `item()`/`event` helpers below keep that order.
import * as v from "valibot";

export const Usage = v.object({
  input_tokens: v.number(),
  cached_input_tokens: v.number(),
  cache_write_input_tokens: v.number(),
  output_tokens: v.number(),
  reasoning_output_tokens: v.number(),
});
export type Usage = v.InferOutput<typeof Usage>;

const ItemId = v.string();

export const AgentMessageItem = v.object({ id: ItemId, type: v.literal("agent_message"), text: v.string() });
export const ReasoningItem = v.object({ id: ItemId, type: v.literal("reasoning"), text: v.string() });
export const CommandExecutionItem = v.object({
  id: ItemId,
  type: v.literal("command_execution"),
  command: v.string(),
  aggregated_output: v.string(),
  exit_code: v.nullable(v.number()),
  status: v.picklist(["in_progress", "completed", "failed", "declined"]),
});
export const FileChangeItem = v.object({
  id: ItemId,
  type: v.literal("file_change"),
  changes: v.array(v.object({ path: v.string(), kind: v.picklist(["add", "delete", "update"]) })),
  status: v.picklist(["in_progress", "completed", "failed"]),
});
export const McpToolCallItem = v.object({
  id: ItemId,
  type: v.literal("mcp_tool_call"),
  server: v.string(),
  tool: v.string(),
  arguments: v.unknown(),
  result: v.nullable(v.object({ content: v.array(v.unknown()), structured_content: v.unknown() })),
  error: v.nullable(v.object({ message: v.string() })),
  status: v.picklist(["in_progress", "completed", "failed"]),
});
export const TodoListItem = v.object({
  id: ItemId,
  type: v.literal("todo_list"),
  items: v.array(v.object({ text: v.string(), completed: v.boolean() })),
});
/** A search the provider ran (a web_search_call output item); `query` is "" while it runs. */
export const WebSearchItem = v.object({
  id: ItemId,
  type: v.literal("web_search"),
  query: v.string(),
  action: v.looseObject({ type: v.string() }),
});
export const ErrorItem = v.object({ id: ItemId, type: v.literal("error"), message: v.string() });

export const ThreadItem = v.variant("type", [
  AgentMessageItem,
  ReasoningItem,
  CommandExecutionItem,
  FileChangeItem,
  McpToolCallItem,
  TodoListItem,
  WebSearchItem,
  ErrorItem,
]);
export type ThreadItem = v.InferOutput<typeof ThreadItem>;
export type CommandExecutionItem = v.InferOutput<typeof CommandExecutionItem>;
export type FileChangeItem = v.InferOutput<typeof FileChangeItem>;
export type TodoListItem = v.InferOutput<typeof TodoListItem>;

/** Error codes carried by ocx's turn.failed (ocx-extensions.md "Outcome contract"). */
export const FailureCode = v.picklist([
  "model_error",
  "auth",
  "sandbox_unavailable",
  "budget_exceeded",
  "output_schema",
  "interrupted",
  "config",
  "internal",
]);
export type FailureCode = v.InferOutput<typeof FailureCode>;

/**
 * ocx's additions to turn.completed and turn.failed (ocx-extensions.md "Usage and cost"): this
 * run's own usage (`usage` is the thread's running total, as in the reference), the model
 * requests and tool calls it made, and its cost when the model has a price.
 */
export const RunStats = v.object({
  run_usage: v.optional(Usage),
  model_requests: v.optional(v.number()),
  tool_calls: v.optional(v.number()),
  cost_usd: v.optional(v.number()),
});

export const ThreadEvent = v.variant("type", [
  v.object({ type: v.literal("thread.started"), thread_id: v.string() }),
  v.object({ type: v.literal("turn.started") }),
  v.object({ type: v.literal("turn.completed"), usage: Usage, ...RunStats.entries }),
  v.object({
    type: v.literal("turn.failed"),
    error: v.object({ message: v.string(), code: v.optional(FailureCode) }),
    ...RunStats.entries,
  }),
  v.object({ type: v.literal("item.started"), item: ThreadItem }),
  v.object({ type: v.literal("item.updated"), item: ThreadItem }),
  v.object({ type: v.literal("item.completed"), item: ThreadItem }),
  v.object({ type: v.literal("error"), message: v.string() }),
]);
export type ThreadEvent = v.InferOutput<typeof ThreadEvent>;

/** Sink the agent loop writes events into; output processors implement it. */
export type EmitEvent = (event: ThreadEvent) => void;

/**
 * What a person reading the transcript should see about an item beyond the event itself: the
 * diff of a patch, the explanation and step statuses of a plan. Human mode prints it with the
 * item; JSONL mode has no place for it and drops it. Produced lazily: nothing is computed when
 * no one prints it.
 */
export type ItemDetail =
  | { kind: "diff"; text: () => string }
  | {
      kind: "plan";
      explanation?: string;
      steps: Array<{ step: string; status: "pending" | "in_progress" | "completed" }>;
    };

/** Receives the detail of an item before that item's next event is emitted. */
export type EmitDetail = (itemId: string, detail: ItemDetail) => void;
