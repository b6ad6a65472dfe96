// The internal model interface: every wire API (Responses now, Chat Completions later) is an
// adapter that turns a ModelRequest into a stream of StreamParts.
import type { Usage } from "../events.ts";

/**
 * A Responses API item, as sent in `input` or received in `output`, kept verbatim (unknown
 * fields survive a round trip, e.g. reasoning `encrypted_content`).
 */
export type ResponseItem = { type: string; [key: string]: unknown };

export interface MessageItem extends ResponseItem {
  type: "message";
  role: "user" | "assistant" | "developer" | "system";
  content: Array<{ type: string; text?: string; [key: string]: unknown }>;
}
export interface FunctionCallItem extends ResponseItem {
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
}
export interface CustomToolCallItem extends ResponseItem {
  type: "custom_tool_call";
  call_id: string;
  name: string;
  input: string;
}

/** A tool as the model sees it (Responses API `tools[]` entry). */
export type ToolSpec =
  | {
      type: "function";
      name: string;
      description: string;
      strict: boolean;
      parameters: Record<string, unknown>;
    }
  | {
      type: "custom";
      name: string;
      description: string;
      format?: Record<string, unknown>;
    }
  /** The provider's hosted search (Responses wire only). */
  | { type: "web_search"; external_web_access: boolean; search_content_types: string[] };

export interface ModelRequest {
  model: string;
  instructions: string;
  input: ResponseItem[];
  tools: ToolSpec[];
  parallelToolCalls: boolean;
  /** Extra headers for this request only (e.g. the remote compaction beta header). */
  headers?: Record<string, string>;
  /** Not counted in the thread's usage or cost (the server-side compaction, as the reference does). */
  unmetered?: boolean;
  /** The thread id; sent as prompt_cache_key and in session headers. */
  threadId: string;
  reasoning?: { effort?: string; summary?: string };
  /** `text.format` for structured output. */
  textFormat?: Record<string, unknown>;
  /** `text.verbosity` (model_verbosity). */
  verbosity?: string;
}

/** What a wire adapter yields while a response streams. */
export type StreamPart =
  | { type: "created"; responseId?: string }
  /** A hosted tool's output item has begun (response.output_item.added of a web_search_call). */
  | { type: "item-added"; item: ResponseItem }
  /** An output item has finished: the authoritative copy (response.output_item.done). */
  | { type: "item-done"; item: ResponseItem }
  | { type: "completed"; responseId?: string; usage: Usage };
// A failed response (response.failed, an error event, a disconnect) is not a part: adapters
// throw a ModelError, classified for the retry policy.

/**
 * Failure of one model request, classified for the retry policy.
 * - retryable: worth another attempt (5xx, transport, disconnect, retryable response.failed, 429)
 * - auth: credentials rejected (401/403)
 * - fatal: never retried (400, context_length_exceeded, insufficient_quota, ...)
 */
export type ModelErrorKind = "retryable" | "auth" | "fatal";

export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly status?: number;
  /** Server-requested delay before the next attempt (Retry-After, "try again in Xs"). */
  readonly retryAfterMs?: number;
  /** HTTP requests this failure took (request-level retries included); 1 when absent. */
  readonly requests?: number;
  /** The request did not fit the model's context window (the turn loop compacts and retries once). */
  readonly contextWindow?: boolean;
  constructor(
    kind: ModelErrorKind,
    message: string,
    opts: { status?: number; retryAfterMs?: number; requests?: number; contextWindow?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "ModelError";
    this.kind = kind;
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
    this.requests = opts.requests;
    if (opts.contextWindow) this.contextWindow = true;
  }
}

/** A model provider endpoint after config resolution. */
export interface ProviderInfo {
  id: string;
  name: string;
  baseUrl: string;
  wireApi: "responses" | "chat";
  /** Credentials, or undefined for unauthenticated local servers. */
  auth?: ProviderAuth;
  headers: Record<string, string>;
  queryParams: Record<string, string>;
  requestMaxRetries: number;
  streamMaxRetries: number;
  streamIdleTimeoutMs: number;
  /** Longest server-requested delay (Retry-After) ocx waits; a longer one fails at once. Default 60 s. */
  retryAfterMaxMs?: number;
  /** Longest one response may stream before it is cut (the turn fails). Default 30 min. */
  streamMaxDurationMs?: number;
  /** Most bytes (after decompression) one response body may hold. Default 128 MiB. */
  streamMaxBytes?: number;
  /** Most characters one server-sent event may hold. Default 16 MiB. */
  streamMaxEventBytes?: number;
}

/** How requests to a provider authenticate (an API key, or ChatGPT tokens that refresh). */
export interface ProviderAuth {
  /** Headers for the next request; a stale token is refreshed first. */
  headers(signal: AbortSignal): Promise<Record<string, string>>;
  /**
   * After a 401: obtains other credentials (from disk, or by refreshing) and says whether the
   * request is worth sending again. Absent for static keys.
   */
  recover?(signal: AbortSignal): Promise<boolean>;
  /** Every credential value in use, to keep out of messages, rollouts and command environments. */
  secrets(): string[];
}

export interface ModelClient {
  /**
   * Streams one response. Request-level retries (5xx, transport errors before any byte of the
   * body) happen inside; anything later surfaces as a thrown ModelError, and
   * the agent loop decides about stream-level retries.
   */
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
}
