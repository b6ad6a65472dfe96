// The Chat Completions adapter (`wire_api = "chat"`): POST {base_url}/chat/completions with
// stream: true, for servers that do not speak the Responses API (llama.cpp, vLLM, Ollama,
// LM Studio, chat-only gateways). The Responses history is translated to messages on the way
// out; streamed chunks are assembled into the same StreamParts the Responses adapter yields.
import type { Usage } from "../events.ts";
import {
  asRecord,
  count,
  DISCONNECTED,
  endpointUrl,
  type EventFeed,
  isContextWindowError,
  openEvents,
  type ResponsesClientOptions,
  streamingPost,
} from "./responses.ts";
import { parseJson } from "./event-json.ts";
import { type ModelClient, ModelError, type ModelRequest, type ResponseItem, type StreamPart, type ToolSpec } from "./types.ts";

export function createChatClient(opts: ResponsesClientOptions): ModelClient {
  const post = streamingPost(opts, endpointUrl(opts.provider, "chat/completions"));
  return {
    stream: (request, signal) =>
      readChatParts(async () => openEvents(await post(JSON.stringify(buildChatBody(request)), signal, request.headers), signal, opts)),
  };
}

type ChatMessage = Record<string, unknown> & { role: string };
type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string; detail?: string } };

export function buildChatBody(request: ModelRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: toMessages(request.instructions, request.input),
    stream: true,
    stream_options: { include_usage: true },
  };
  // Hosted tools (web_search) have no Chat Completions form.
  const tools = request.tools.filter((t) => t.type === "function" || t.type === "custom");
  if (tools.length > 0) {
    body.tools = tools.map(toChatTool);
    body.tool_choice = "auto";
    body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.reasoning?.effort) body.reasoning_effort = request.reasoning.effort;
  const format = request.textFormat;
  if (format && format.type === "json_schema") {
    body.response_format = {
      type: "json_schema",
      json_schema: { name: format.name ?? "output", schema: format.schema, strict: format.strict ?? true },
    };
  }
  return body;
}

/** Custom (freeform) tools become functions taking the text as `input`. */
function toChatTool(tool: Extract<ToolSpec, { type: "function" | "custom" }>): Record<string, unknown> {
  if (tool.type === "function") {
    return { type: "function", function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
  }
  return {
    type: "function",
    function: {
      name: tool.name,
      description: tool.description,
      parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"], additionalProperties: false },
    },
  };
}

/** The Responses history as chat messages: calls of one response share one assistant message. */
export function toMessages(instructions: string, items: readonly ResponseItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: "system", content: instructions });
  // The assistant message that tool calls attach to: the text just before them, or a new one.
  let open: ChatMessage | undefined;
  const images: ChatPart[] = [];
  const flushImages = () => {
    if (images.length === 0) return;
    messages.push({ role: "user", content: [{ type: "text", text: "Images returned by the tool calls above:" }, ...images.splice(0)] });
  };
  for (const item of items) {
    switch (item.type) {
      case "message": {
        flushImages();
        const role = item.role === "assistant" ? "assistant" : item.role === "user" ? "user" : "system";
        const parts = contentParts(item.content);
        const content = parts.every((p) => p.type === "text") ? parts.map((p) => (p as { text: string }).text).join("") : parts;
        const message: ChatMessage = { role, content };
        messages.push(message);
        open = role === "assistant" ? message : undefined;
        break;
      }
      case "function_call":
      case "custom_tool_call": {
        flushImages();
        const args = item.type === "function_call" ? String(item.arguments ?? "") : JSON.stringify({ input: String(item.input ?? "") });
        const call = { id: String(item.call_id), type: "function", function: { name: String(item.name), arguments: args } };
        if (!open) {
          open = { role: "assistant", content: null };
          messages.push(open);
        }
        ((open.tool_calls ??= []) as unknown[]).push(call);
        break;
      }
      case "function_call_output":
      case "custom_tool_call_output": {
        const output = item.output;
        let text: string;
        if (typeof output === "string") text = output;
        else {
          const parts = contentParts(output);
          text = parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
          images.push(...parts.filter((p) => p.type === "image_url"));
          if (!text) text = "(image attached below)";
        }
        messages.push({ role: "tool", tool_call_id: String(item.call_id), content: text });
        open = undefined;
        break;
      }
      default:
        // reasoning items and anything else Responses-only: nothing a chat server could use
        break;
    }
  }
  flushImages();
  return messages;
}

function contentParts(content: unknown): ChatPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  const out: ChatPart[] = [];
  for (const raw of Array.isArray(content) ? content : []) {
    const part = asRecord(raw);
    if (!part) continue;
    if (typeof part.text === "string") out.push({ type: "text", text: part.text });
    else if (part.type === "input_image" && typeof part.image_url === "string") {
      out.push({ type: "image_url", image_url: { url: part.image_url, ...(typeof part.detail === "string" && part.detail !== "original" ? { detail: part.detail } : {}) } });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The stream

interface CallDraft {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Chunks to StreamParts: the deltas are gathered into the finished items, which come out at the
 * end, then `completed`.
 * `feed` may be a function that opens it (the request is sent when the parts are first asked for).
 */
export async function* readChatParts(feed: EventFeed | (() => Promise<EventFeed>)): AsyncGenerator<StreamPart> {
  const events = typeof feed === "function" ? await feed() : feed;
  let text = "";
  let reasoning = "";
  let responseId: string | undefined;
  let finished = false;
  let usage: Usage | undefined;
  const calls = new Map<number, CallDraft>();
  let started = false;
  try {
    for (;;) {
      const next = events.take() ?? ((await events.fill()) ? events.take() : undefined);
      if (next === undefined) break;
      const data = next.data.trim();
      if (data === "[DONE]") break;
      const chunk = asRecord(parseJson(data));
      if (!chunk) continue;
      const error = asRecord(chunk.error);
      if (error) throw chatError(error);
      if (!started) {
        started = true;
        if (typeof chunk.id === "string") responseId = chunk.id;
        yield { type: "created", ...(responseId ? { responseId } : {}) };
      }
      if (asRecord(chunk.usage)) usage = mapChatUsage(asRecord(chunk.usage)!);
      const choice = asRecord(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
      if (!choice) continue;
      const delta = asRecord(choice.delta) ?? asRecord(choice.message) ?? {};
      const thought = typeof delta.reasoning_content === "string" ? delta.reasoning_content : typeof delta.reasoning === "string" ? delta.reasoning : "";
      reasoning += thought;
      if (typeof delta.content === "string") text += delta.content;
      if (Array.isArray(delta.tool_calls)) for (const [position, raw] of delta.tool_calls.entries()) {
        const tc = asRecord(raw);
        if (!tc) continue;
        const index = typeof tc.index === "number" ? tc.index : position;
        const fn = asRecord(tc.function) ?? {};
        const draft = calls.get(index) ?? { id: "", name: "", arguments: "" };
        if (typeof tc.id === "string" && tc.id) draft.id = tc.id;
        if (typeof fn.name === "string") draft.name += fn.name;
        if (typeof fn.arguments === "string") draft.arguments += fn.arguments;
        else if (fn.arguments && typeof fn.arguments === "object") draft.arguments += JSON.stringify(fn.arguments);
        calls.set(index, draft);
      }
      if (typeof choice.finish_reason === "string" && choice.finish_reason) {
        finished = true;
        if (choice.finish_reason === "length" && calls.size === 0 && !text) {
          throw new ModelError("fatal", "The model stopped at its output limit before answering (finish_reason: length).");
        }
      }
    }
  } finally {
    events.cancel();
  }
  if (!finished) throw new ModelError("retryable", `${DISCONNECTED}stream closed before finish_reason`);

  const id = responseId ?? "chat";
  if (reasoning) {
    yield { type: "item-done", item: { type: "reasoning", id: `rs_${id}`, summary: [], content: [{ type: "reasoning_text", text: reasoning }] } };
  }
  if (text) {
    yield { type: "item-done", item: { type: "message", id: `msg_${id}`, role: "assistant", content: [{ type: "output_text", text }] } };
  }
  for (const [index, draft] of [...calls.entries()].sort((a, b) => a[0] - b[0])) {
    yield {
      type: "item-done",
      item: { type: "function_call", call_id: draft.id || `call_${id}_${index}`, name: draft.name, arguments: draft.arguments || "{}" },
    };
  }
  yield { type: "completed", ...(responseId ? { responseId } : {}), usage: usage ?? mapChatUsage({}) };
}

function chatError(error: Record<string, unknown>): ModelError {
  const message = typeof error.message === "string" ? error.message : JSON.stringify(error);
  if (isContextWindowError(error, message)) return new ModelError("fatal", message, { contextWindow: true });
  return new ModelError("retryable", DISCONNECTED + message);
}

function mapChatUsage(u: Record<string, unknown>): Usage {
  return {
    input_tokens: count(u.prompt_tokens),
    cached_input_tokens: count(asRecord(u.prompt_tokens_details)?.cached_tokens),
    cache_write_input_tokens: 0,
    output_tokens: count(u.completion_tokens),
    reasoning_output_tokens: count(asRecord(u.completion_tokens_details)?.reasoning_tokens),
  };
}
