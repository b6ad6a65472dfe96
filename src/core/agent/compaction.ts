// Context compaction: when the history no longer fits comfortably in the model's context window,
// the model writes a handoff summary of the work so far and the history is replaced by the
// user's own messages, that summary, and the tool results it has not answered yet. What is
// decided here is pure: the limit, the token estimate, the texts, and the replacement history.
import type { ResponseItem } from "../model/types.ts";
import { AGENTS_MARKER } from "../prompt/project-docs.ts";
import { ENVIRONMENT_MARKER, userMessage } from "../prompt/environment-context.ts";
import { isToolCall } from "./items.ts";
import { itemJsonLength } from "../model/item-json.ts";

/** The share of the context window at which ocx compacts (the reference's 90 %). */
export const AUTO_COMPACT_SHARE = 0.9;

/**
 * Context windows (tokens) of common models, by name prefix, longest first; used when config
 * sets neither model_auto_compact_token_limit nor model_context_window. ocx's own table.
 */
const CONTEXT_WINDOWS: Array<[string, number]> = [
  ["gpt-5.1-codex-mini", 272_000],
  ["gpt-5-codex-mini", 272_000],
  ["gpt-5", 272_000],
  ["codex-", 272_000],
  ["gpt-4.1", 1_047_576],
  ["gpt-4o", 128_000],
  ["o4-mini", 200_000],
  ["o3", 200_000],
  ["gpt-oss", 128_000],
];

export function defaultContextWindow(model: string): number | undefined {
  const lower = model.toLowerCase();
  const name = lower.startsWith("openai/") ? lower.slice("openai/".length) : lower;
  for (const [prefix, window] of CONTEXT_WINDOWS) if (name.startsWith(prefix)) return window;
  return undefined;
}

/**
 * The token count at which a request is compacted first: model_auto_compact_token_limit, else
 * 90 % of model_context_window, else 90 % of the model's known window; undefined: never
 * automatically (a context-window error still compacts once).
 */
export function autoCompactLimit(o: { limit?: number; contextWindow?: number; model: string }): number | undefined {
  if (o.limit !== undefined) return o.limit;
  const window = o.contextWindow ?? defaultContextWindow(o.model);
  return window === undefined ? undefined : Math.floor(window * AUTO_COMPACT_SHARE);
}

/** A rough token count of items as sent: about four bytes of JSON per token. */
export function estimateTokens(items: readonly ResponseItem[]): number {
  let chars = 0;
  for (const item of items) chars += itemJsonLength(item);
  return Math.ceil(chars / 4);
}

/** The instructions of the summarisation request (ocx's own wording). */
export const SUMMARY_INSTRUCTIONS = [
  "Pause the task: the conversation is about to be shortened to fit your context window.",
  "Everything above except the user's own messages will be replaced by a handoff note that you write now,",
  "so that you (or another model) can carry on without it. Write that note:",
  "- the goal and every constraint or preference the user stated;",
  "- what has been done so far: files created or changed, commands run and what they showed;",
  "- facts found that are still needed: exact paths, names, error messages, values;",
  "- what remains to be done, in order, and what you were about to do next.",
  "Be brief and exact. Do not call tools. Answer with the note only.",
].join("\n");

/** Put before the summary in the history that replaces the compacted one (ocx's own wording). */
export const SUMMARY_PREAMBLE =
  "[ocx context checkpoint] Earlier parts of this conversation were removed to fit the context window. " +
  "The note below was written by the model that did that work, as a handoff; continue the task from it " +
  "without redoing the steps it reports as done.";

/** The reference's summary messages begin this way (recognised in its rollouts, never written). */
const REFERENCE_SUMMARY_START = "Another language model started to solve this problem";

export function summaryMessage(summary: string): ResponseItem {
  return userText(`${SUMMARY_PREAMBLE}\n\n${summary.trim()}`);
}

/** A user message of `text` (the prompt's own shape). */
export const userText: (text: string) => ResponseItem = userMessage;

function messageText(item: ResponseItem): string {
  const content = (item as { content?: unknown }).content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (typeof (p as { text?: unknown })?.text === "string" ? (p as { text: string }).text : "")).join("");
}

export const isUserMessage = (item: ResponseItem): boolean => item.type === "message" && item.role === "user";
const isAgentsMessage = (item: ResponseItem) => isUserMessage(item) && messageText(item).startsWith(AGENTS_MARKER);
const isEnvironmentMessage = (item: ResponseItem) => isUserMessage(item) && messageText(item).trimStart().startsWith(ENVIRONMENT_MARKER);
export const isSummaryMessage = (item: ResponseItem) => {
  if (!isUserMessage(item)) return false;
  const text = messageText(item);
  return text.startsWith(SUMMARY_PREAMBLE) || text.startsWith(REFERENCE_SUMMARY_START);
};

/** The text of the assistant messages of a summarisation response. */
export function summaryText(output: readonly ResponseItem[]): string {
  return output
    .filter((i) => i.type === "message" && i.role === "assistant")
    .map(messageText)
    .join("\n")
    .trim();
}

/** Most of the user's own messages kept, in estimated tokens (older ones are shortened first, the first prompt last). */
const USER_MESSAGES_MAX_TOKENS = 20_000;
/** Most of the unanswered tool results kept after the summary, in estimated tokens. */
const PENDING_MAX_TOKENS = 8_000;

/**
 * The history that replaces `history` after compaction: the latest AGENTS.md and environment
 * messages, the user's own messages (not earlier summaries), the summary item, then the tool
 * calls at the end of the history that the model has not answered yet, with their results
 * (shortened if large). Assistant messages, reasoning, developer messages and answered calls go.
 */
export function replacementHistory(history: readonly ResponseItem[], summary: ResponseItem, o: { limit?: number } = {}): ResponseItem[] {
  const agents = findLast(history, isAgentsMessage);
  const environment = findLast(history, isEnvironmentMessage);
  const prompts = history.filter((i) => isUserMessage(i) && !isAgentsMessage(i) && !isEnvironmentMessage(i) && !isSummaryMessage(i));
  const budget = (share: number, max: number) => Math.max(500, Math.min(max, o.limit === undefined ? max : Math.floor(o.limit * share)));
  return [
    ...(agents ? [agents] : []),
    ...(environment ? [environment] : []),
    ...boundedPrompts(prompts, budget(0.25, USER_MESSAGES_MAX_TOKENS)),
    summary,
    ...pendingCalls(history, budget(0.15, PENDING_MAX_TOKENS)),
  ];
}

function findLast(items: readonly ResponseItem[], test: (i: ResponseItem) => boolean): ResponseItem | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return items[i];
  return undefined;
}

/** The prompts within `maxTokens`: the first prompt first, then the latest ones; the one that overflows is shortened. */
function boundedPrompts(prompts: ResponseItem[], maxTokens: number): ResponseItem[] {
  let left = maxTokens * 4;
  const keep = new Map<number, ResponseItem>();
  const order = prompts.length === 0 ? [] : [0, ...prompts.map((_, i) => prompts.length - 1 - i).filter((i) => i !== 0)];
  for (const i of order) {
    if (left <= 0) break;
    const text = messageText(prompts[i]!);
    if (text.length <= left) {
      keep.set(i, prompts[i]!);
      left -= text.length;
    } else {
      keep.set(i, userText(shorten(text, left)));
      left = 0;
    }
  }
  return [...keep.entries()].sort((a, b) => a[0] - b[0]).map(([, item]) => item);
}

const isOutput = (i: ResponseItem) => i.type === "function_call_output" || i.type === "custom_tool_call_output";

/**
 * The calls of the last response, when the history ends with their results: what the model
 * asked for and has not seen the answer of yet. Item ids are dropped (their reasoning items are
 * gone); large text results are shortened to share `maxTokens`.
 */
function pendingCalls(history: readonly ResponseItem[], maxTokens: number): ResponseItem[] {
  let start = history.length;
  while (start > 0 && isOutput(history[start - 1]!)) start--;
  if (start === history.length) return [];
  while (start > 0 && (isToolCall(history[start - 1]!) || history[start - 1]!.type === "reasoning")) start--;
  const tail = history.slice(start).filter((i) => i.type !== "reasoning");
  const answered = new Set(tail.filter(isOutput).map((i) => i.call_id));
  const kept = tail.filter((i) => answered.has(i.call_id));
  const outputs = kept.filter(isOutput).length;
  if (outputs === 0) return [];
  const perOutput = Math.floor((maxTokens * 4) / outputs);
  return kept.map((item) => {
    const { id: _id, ...rest } = item;
    if (!isOutput(item)) return rest as ResponseItem;
    const output = item.output;
    if (typeof output === "string") return { ...rest, output: shorten(output, perOutput) } as ResponseItem;
    return rest as ResponseItem;
  });
}

/** `text` cut to about `max` characters, keeping its start and end. */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n[... ${text.length - max} characters removed by ocx compaction ...]\n`;
  const keep = Math.max(0, max - marker.length);
  const head = Math.ceil(keep / 2);
  return text.slice(0, head) + marker + text.slice(text.length - (keep - head));
}

/**
 * The history after a rollout's `compacted` line: its replacement_history when present (ocx and
 * the reference write one); else the user messages before it and the summary in `message`
 * (older reference versions).
 */
export function historyAfterCompacted(before: readonly ResponseItem[], payload: Record<string, unknown>): ResponseItem[] {
  const replacement = payload.replacement_history;
  if (Array.isArray(replacement)) {
    return replacement.filter((i): i is ResponseItem => typeof i === "object" && i !== null && typeof (i as ResponseItem).type === "string");
  }
  const message = typeof payload.message === "string" ? payload.message : "";
  const kept = before.filter(isUserMessage);
  return message ? [...kept.filter((i) => !isSummaryMessage(i)), userText(message)] : kept;
}
