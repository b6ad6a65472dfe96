// Chat Completions streams for the mock server (`wire_api = "chat"`): the chunk sequences a
// llama.cpp / vLLM / Ollama style server sends, built from a short description.
import { sse, type SseEvent, type Step } from "./responses-server.ts";

export interface ChatToolCall {
  id: string;
  name: string;
  /** The arguments object (sent as JSON text, split across chunks). */
  args: unknown;
}

export interface ChatTurn {
  text?: string;
  reasoning?: string;
  toolCalls?: ChatToolCall[];
  usage?: { prompt_tokens: number; completion_tokens: number; cached?: number; reasoning?: number };
  /** Characters per content/arguments chunk (default 7: many small deltas). */
  chunkSize?: number;
  /** Interleave the tool calls' argument chunks (as servers with parallel calls do). */
  interleave?: boolean;
  finishReason?: string;
  /** Leave out `data: [DONE]` and the finish reason (a stream cut short). */
  cut?: boolean;
}

const pieces = (text: string, size: number) => {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
};

let counter = 0;

export function chatChunks(t: ChatTurn): SseEvent[] {
  const id = `chatcmpl-${++counter}`;
  const size = t.chunkSize ?? 7;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}): SseEvent => ({
    type: "chat.chunk",
    chunk: { id, object: "chat.completion.chunk", created: 1, model: "mock", choices: [{ index: 0, delta, finish_reason: finish }], ...extra },
  });
  const ev: SseEvent[] = [chunk({ role: "assistant", content: "" })];
  for (const p of pieces(t.reasoning ?? "", size)) ev.push(chunk({ reasoning_content: p }));
  for (const p of pieces(t.text ?? "", size)) ev.push(chunk({ content: p }));
  const calls = (t.toolCalls ?? []).map((c, index) => ({ c, index, parts: pieces(JSON.stringify(c.args), size) }));
  for (const { c, index } of calls) {
    ev.push(chunk({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
  }
  if (t.interleave) {
    for (let i = 0; calls.some((x) => i < x.parts.length); i++) {
      for (const { index, parts } of calls) if (i < parts.length) ev.push(chunk({ tool_calls: [{ index, function: { arguments: parts[i] } }] }));
    }
  } else {
    for (const { index, parts } of calls) for (const p of parts) ev.push(chunk({ tool_calls: [{ index, function: { arguments: p } }] }));
  }
  if (t.cut) return ev;
  ev.push(chunk({}, t.finishReason ?? (calls.length > 0 ? "tool_calls" : "stop")));
  const u = t.usage ?? { prompt_tokens: 50, completion_tokens: 5 };
  ev.push({
    type: "chat.chunk",
    chunk: {
      id,
      object: "chat.completion.chunk",
      choices: [],
      usage: {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.prompt_tokens + u.completion_tokens,
        prompt_tokens_details: { cached_tokens: u.cached ?? 0 },
        completion_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
      },
    },
  });
  ev.push({ type: "chat.done" });
  return ev;
}

/** A mock step answering one chat request. */
export const chat = (t: ChatTurn): Step => sse(chatChunks(t), t.cut ? { disconnect: true } : {});
