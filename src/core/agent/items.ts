// Small helpers over Responses API items.
import type { ResponseItem } from "../model/types.ts";
import type { ToolOutput } from "../tools/define-tool.ts";

export const isToolCall = (item: ResponseItem): boolean =>
  item.type === "function_call" || item.type === "custom_tool_call";

/** The output item answering a tool call. */
export function callOutputItem(call: ResponseItem, output: ToolOutput): ResponseItem {
  const type = call.type === "custom_tool_call" ? "custom_tool_call_output" : "function_call_output";
  return { type, call_id: call.call_id, output };
}

/** Concatenated text parts of a message item. */
export function itemText(item: ResponseItem): string {
  const content = Array.isArray(item.content) ? item.content : [];
  return content
    .map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : ""))
    .join("");
}

/** The reasoning summary (or, for servers that send only raw reasoning, the raw text). */
export function reasoningText(item: ResponseItem): string {
  const parts = (key: string) =>
    (Array.isArray(item[key]) ? (item[key] as Array<{ text?: unknown }>) : [])
      .map((p) => (typeof p?.text === "string" ? p.text : ""))
      .filter((t) => t !== "");
  const summary = parts("summary");
  return (summary.length > 0 ? summary : parts("content")).join("\n\n");
}
