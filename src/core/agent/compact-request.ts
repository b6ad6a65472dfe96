// The compaction request: the model summarises the history (custom providers and the chat wire:
// the history plus ocx's summarisation instructions, no tools), or, for a provider named
// OpenAI, the server compacts it (a `compaction_trigger` input item, one `compaction` item back).
import type { Usage } from "../events.ts";
import { addUsage, emptyUsage } from "./usage-totals.ts";
import { OcxError } from "../errors.ts";
import { StreamRetries, sleep } from "../model/retry.ts";
import { ModelError, type ModelClient, type ModelRequest, type ResponseItem, type ToolSpec } from "../model/types.ts";
import { SUMMARY_INSTRUCTIONS, isUserMessage, replacementHistory, summaryMessage, summaryText, userText } from "./compaction.ts";

export interface CompactRequestOptions {
  client: ModelClient;
  model: string;
  instructions: string;
  threadId: string;
  reasoning?: ModelRequest["reasoning"];
  /** The turn's tools (sent along with a remote compaction; a summarisation request has none). */
  tools: ToolSpec[];
  /** Server-side compaction (a provider named OpenAI on the Responses wire). */
  remote: boolean;
  limit?: number;
  /** compact_prompt: instructions that replace ocx's own. */
  prompt?: string;
  streamMaxRetries: number;
  retryAfterMaxMs?: number;
  monotonic(): number;
  /** Reconnect notices. */
  notice(message: string): void;
  signal: AbortSignal;
}

export interface Compacted {
  /** The new history (before this turn's new input, when compacting before a turn). */
  history: ResponseItem[];
  /** The summary message's text ("" for a remote compaction). */
  message: string;
  /** Usage of the summarisation request (zero for a remote compaction, as the reference counts it). */
  usage: Usage;
}

/** How often a summarisation request that does not fit is retried with its oldest items dropped. */
const TRIM_ATTEMPTS = 3;

export async function compactHistory(history: readonly ResponseItem[], o: CompactRequestOptions): Promise<Compacted> {
  let source = [...history];
  for (let trims = 0; ; trims++) {
    try {
      return o.remote ? await remote(source, history, o) : await summarise(source, history, o);
    } catch (e) {
      if (!(e instanceof ModelError) || !e.contextWindow || o.signal.aborted) throw e;
      const trimmed = trimOldest(source);
      if (trims >= TRIM_ATTEMPTS || trimmed.length === source.length) {
        throw new OcxError(
          "failed",
          `the conversation does not fit the model's context window, and neither did the request to summarise it (${e.message}); start a new session with a shorter prompt, or set model_context_window to the model's real window`,
          { cause: e },
        );
      }
      source = trimmed;
    }
  }
}

async function summarise(source: ResponseItem[], history: readonly ResponseItem[], o: CompactRequestOptions): Promise<Compacted> {
  const { output, usage } = await send(
    {
      model: o.model,
      instructions: o.instructions,
      input: [...source, userText(o.prompt ?? SUMMARY_INSTRUCTIONS)],
      tools: [],
      parallelToolCalls: false,
      threadId: o.threadId,
      reasoning: o.reasoning,
    },
    o,
  );
  const text = summaryText(output);
  if (!text) throw new OcxError("failed", "compacting the conversation failed: the model answered the summary request without any text; try again, or raise model_auto_compact_token_limit");
  const summary = summaryMessage(text);
  return { history: replacementHistory(history, summary, { limit: o.limit }), message: String((summary.content as Array<{ text: string }>)[0]!.text), usage };
}

async function remote(source: ResponseItem[], history: readonly ResponseItem[], o: CompactRequestOptions): Promise<Compacted> {
  const { output } = await send(
    {
      model: o.model,
      instructions: o.instructions,
      input: [...source, { type: "compaction_trigger" }],
      tools: o.tools,
      parallelToolCalls: true,
      threadId: o.threadId,
      reasoning: o.reasoning,
      headers: { "x-codex-beta-features": "remote_compaction_v2" },
      unmetered: true,
    },
    o,
  );
  const items = output.filter((i) => i.type === "compaction");
  if (items.length !== 1 || output.length !== 1) {
    throw new OcxError(
      "failed",
      `compacting the conversation failed: the server was expected to answer with exactly one compaction item, got ${items.length} among ${output.length} output items; set model_auto_compact_token_limit higher or use a provider not named OpenAI`,
    );
  }
  return { history: replacementHistory(history, items[0]!, { limit: o.limit }), message: "", usage: emptyUsage() };
}

/** One response's output items and usage, with the stream-level retries of a turn request. */
async function send(request: ModelRequest, o: CompactRequestOptions): Promise<{ output: ResponseItem[]; usage: Usage }> {
  const retries = new StreamRetries({ maxRetries: o.streamMaxRetries, retryAfterMaxMs: o.retryAfterMaxMs, now: o.monotonic });
  for (;;) {
    const output: ResponseItem[] = [];
    let usage = emptyUsage();
    try {
      for await (const part of o.client.stream(request, o.signal)) {
        if (part.type === "item-done") output.push(part.item);
        else if (part.type === "completed") usage = addUsage(usage, part.usage);
      }
      return { output, usage };
    } catch (e) {
      if (!(e instanceof ModelError) || o.signal.aborted) throw e;
      const retry = retries.next(e);
      o.notice(retry.notice);
      await sleep(retry.delayMs, o.signal);
    }
  }
}

/**
 * The items with the oldest quarter of what compaction drops anyway (everything but user
 * messages) removed, calls and their results together.
 */
function trimOldest(items: ResponseItem[]): ResponseItem[] {
  const droppable = items.filter((i) => !isUserMessage(i));
  const drop = new Set(droppable.slice(0, Math.ceil(droppable.length / 4)));
  const droppedCalls = new Set([...drop].map((i) => i.call_id).filter((id) => id !== undefined));
  return items.filter((i) => !drop.has(i) && !(i.call_id !== undefined && droppedCalls.has(i.call_id)));
}
