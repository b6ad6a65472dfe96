// The Responses API adapter: POST {baseUrl}/responses, retry the request on 5xx and transport
// errors, then turn the SSE body into StreamParts (spec §6.1, §6.2, §6.4).
import { createFetch } from "ofetch";
import type { Usage } from "../events.ts";
import {
  backoffMs,
  DEFAULT_RETRY_AFTER_MAX_MS,
  formatBytes,
  formatDuration,
  parseRetryAfter,
  parseTryAgainIn,
  retryAfterRefusal,
  sleep as abortableSleep,
} from "./retry.ts";
import { BodyTooLargeError, EventTooLargeError, type SseEvent, sseEvents } from "./sse.ts";
import {
  type ModelClient,
  ModelError,
  type ModelRequest,
  type ProviderInfo,
  type ResponseItem,
  type StreamPart,
} from "./types.ts";
import { itemJsonBytes } from "./item-json.ts";

export interface ResponsesClientOptions {
  fetch: typeof fetch;
  provider: ProviderInfo;
  /** Extra headers (session ids, originator, ...); they win over provider.headers. */
  headers: Record<string, string>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Monotonic milliseconds (the stream's duration cap). */
  now?: () => number;
}

/** Defaults of the per-response bounds (provider keys stream_max_duration_ms, stream_max_bytes, stream_max_event_bytes). */
export const STREAM_MAX_DURATION_MS = 30 * 60_000;
export const STREAM_MAX_BYTES = 128 * 1024 * 1024;
export const STREAM_MAX_EVENT_BYTES = 16 * 1024 * 1024;
/** Of an error response, only this much is read (the message is near the start). */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

const QUOTA_MESSAGE = "Quota exceeded. Check your plan and billing details.";
const USAGE_LIMIT_MESSAGE = "You’ve hit your usage limit. Try again later.";
const USAGE_NOT_INCLUDED_MESSAGE =
  "To use Codex with your ChatGPT plan, upgrade to Plus: https://openai.com/chatgpt/pricing.";
const CONTEXT_WINDOW_MESSAGE =
  "Your input exceeds the context window of this model. Please adjust your input and try again.";
export const DISCONNECTED = "stream disconnected before completion: ";

export function createResponsesClient(opts: ResponsesClientOptions): ModelClient {
  const post = streamingPost(opts, endpointUrl(opts.provider, "responses"));
  return {
    async *stream(request, signal) {
      const body = await post(responsesBody(request), signal, request.headers);
      yield* readParts(openEvents(body, signal, opts));
    },
  };
}

/**
 * POST a JSON body to `url` and hand back the streaming response body: request-level retries
 * (5xx, transport errors), 401 recovery through the provider's credentials, and HTTP errors
 * classified for the retry policy. Shared by every wire API.
 */
export function streamingPost(opts: ResponsesClientOptions, url: string) {
  // Note: `ofetch.create({ fetch })` would put `fetch` in the *request defaults* and still call
  // the global fetch; the fetch implementation is a global option, hence createFetch.
  const $fetch = createFetch({ fetch: opts.fetch });
  const { provider } = opts;
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;
  const redact = (text: string) => {
    for (const secret of provider.auth?.secrets() ?? []) if (secret) text = text.split(secret).join("[REDACTED]");
    return text;
  };

  type Attempt = { body: ReadableStream<Uint8Array> } | { error: ModelError; retry: boolean; retryAfterMs?: number };
  const retryAfterMax = provider.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;

  async function attempt(body: string | Blob, headers: Headers, signal: AbortSignal): Promise<Attempt> {
    let res;
    // A server that takes the request and never answers is silence too: the response headers
    // are due within stream_idle_timeout_ms (the body's own bounds start once they are in).
    const idle = provider.streamIdleTimeoutMs;
    const headersDue = new AbortController();
    const timer = setTimeout(
      () => headersDue.abort(new Error(`no response within ${formatDuration(idle)} (stream_idle_timeout_ms)`)),
      Math.min(Math.max(0, idle), 2_147_483_647),
    );
    try {
      res = await $fetch.raw<ReadableStream<Uint8Array>, "stream">(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any([signal, headersDue.signal]),
        responseType: "stream",
        retry: 0,
        ignoreResponseError: true,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // ofetch wraps the fetch rejection in a FetchError; the cause is the transport error.
      const cause = headersDue.signal.aborted ? headersDue.signal.reason : ((err as { cause?: unknown }).cause ?? err);
      const message = redact(`error sending request for url (${url}): ${errorText(cause)}`);
      // Retried here, at request level; once those retries are spent the turn fails.
      return { error: new ModelError("fatal", message, { cause }), retry: true };
    } finally {
      clearTimeout(timer);
    }
    if (res.status >= 200 && res.status < 300) {
      return { body: res._data ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }) };
    }
    const text = await readErrorText(res._data, signal, provider.streamIdleTimeoutMs);
    const error = httpError(res.status, res.statusText, res.headers, text, url, redact);
    if (res.status < 500) return { error, retry: false };
    return { error, retry: true, retryAfterMs: parseRetryAfter(res.headers, Date.now()) };
  }

  return async function send(body: string | Blob, signal: AbortSignal, extra: Record<string, string> = {}): Promise<ReadableStream<Uint8Array>> {
    // A 401 may be cured by other credentials (a token another process refreshed, or a refresh):
    // at most twice per request, as the reference does (reload, then refresh).
    let recoveries = 0;
    for (let n = 1; ; ) {
      signal.throwIfAborted();
      const headers = buildHeaders(provider, { ...opts.headers, ...extra }, await provider.auth?.headers(signal));
      const result = await attempt(body, headers, signal);
      if ("body" in result) return result.body;
      if (result.error.status === 401 && provider.auth?.recover && recoveries < 2) {
        recoveries++;
        if (await provider.auth.recover(signal)) continue;
      }
      const { error } = result;
      if (!result.retry) throw retryAfterRefusal(error.retryAfterMs, retryAfterMax, error.message) ?? error;
      const refusal = retryAfterRefusal(result.retryAfterMs, retryAfterMax, error.message);
      if (refusal) throw refusal;
      if (n > provider.requestMaxRetries) {
        // Request-level retries spent: the stream level may try again later (as the reference
        // does: 5 × 6 = 30 requests for a persistent 500), or give up saying how many were made.
        throw new ModelError("retryable", error.message, { status: error.status, retryAfterMs: result.retryAfterMs, requests: n, cause: error.cause });
      }
      await sleep(result.retryAfterMs ?? backoffMs(n, random), signal);
      n++;
    }
  };
}

/** The JSON body, keys in the order the reference client sends them. */
export function buildResponsesBody(request: ModelRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model: request.model };
  // The reference client omits `instructions` when empty (spec §6.2).
  if (request.instructions) body.instructions = request.instructions;
  body.input = request.input;
  body.tools = request.tools;
  body.tool_choice = "auto";
  body.parallel_tool_calls = request.parallelToolCalls;
  if (request.reasoning) body.reasoning = request.reasoning;
  body.store = false;
  body.stream = true;
  if (request.reasoning) body.include = ["reasoning.encrypted_content"];
  body.prompt_cache_key = request.threadId;
  if (request.textFormat || request.verbosity) {
    body.text = { ...(request.textFormat ? { format: request.textFormat } : {}), ...(request.verbosity ? { verbosity: request.verbosity } : {}) };
  }
  return body;
}

const encoder = new TextEncoder();
const COMMA = encoder.encode(",");

/**
 * The request body: JSON.stringify(buildResponsesBody(request)), as that text, or as a Blob of its
 * UTF-8 when input items restored from a rollout bring their JSON's bytes along (itemJsonBytes):
 * those are copied in, and only the rest is serialised. (A Blob, not a Uint8Array: fetch sends a
 * Blob as it is, where it would copy a Uint8Array first.)
 */
export function responsesBody(request: ModelRequest): string | Blob {
  const body = buildResponsesBody(request);
  const input = request.input;
  if (!Array.isArray(input) || !input.some((item) => item !== null && typeof item === "object" && itemJsonBytes(item) !== undefined)) {
    return JSON.stringify(body);
  }
  // The keys before and after `input`, serialised as they are; input in between.
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  let seen = false;
  for (const key of Object.keys(body)) {
    if (key === "input") seen = true;
    else (seen ? after : before)[key] = body[key];
  }
  const head = JSON.stringify(before).slice(0, -1);
  const tail = JSON.stringify(after).slice(1);
  const parts: Uint8Array[] = [];
  let pending = `${head}${head.length > 1 ? "," : ""}"input":[`;
  input.forEach((item, i) => {
    if (i > 0) pending += ",";
    const bytes = item !== null && typeof item === "object" ? itemJsonBytes(item) : undefined;
    if (bytes === undefined) {
      // As an array element: what JSON.stringify leaves out (undefined, functions) is null.
      pending += JSON.stringify(item) ?? "null";
      return;
    }
    parts.push(pending === "," ? COMMA : encoder.encode(pending), bytes);
    pending = "";
  });
  parts.push(encoder.encode(`${pending}]${tail.length > 1 ? "," : ""}${tail}`));
  return new Blob(parts as BlobPart[], { type: "" });
}

export function endpointUrl(provider: ProviderInfo, path: string): string {
  const base = provider.baseUrl.replace(/\/+$/, "");
  const query = new URLSearchParams(provider.queryParams).toString();
  return `${base}/${path}${query ? `?${query}` : ""}`;
}

function buildHeaders(provider: ProviderInfo, extra: Record<string, string>, auth: Record<string, string> = {}): Headers {
  const headers = new Headers();
  headers.set("content-type", "application/json");
  headers.set("accept", "text/event-stream");
  for (const [k, v] of Object.entries(provider.headers)) headers.set(k, v);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  for (const [k, v] of Object.entries(auth)) headers.set(k, v);
  return headers;
}

// ---------------------------------------------------------------------------------------------
// HTTP errors

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function statusLine(status: number, statusText: string): string {
  return `${status} ${REASONS[status] ?? statusText}`.trim();
}

function httpError(
  status: number,
  statusText: string,
  headers: Headers,
  text: string,
  url: string,
  redact: (s: string) => string,
): ModelError {
  const error = asRecord(asRecord(parseJson(text))?.error);
  const message = typeof error?.message === "string" ? error.message : text;
  const unexpected = redact(`unexpected status ${statusLine(status, statusText)}: ${message}, url: ${url}`);
  if (status === 400) return new ModelError("fatal", redact(text), { status, contextWindow: isContextWindowError(error, message) });
  if (status === 401 || status === 403) return new ModelError("auth", unexpected, { status });
  if (status === 429) {
    if (error?.code === "insufficient_quota") return new ModelError("fatal", QUOTA_MESSAGE, { status });
    if (error?.type === "usage_limit_reached") return new ModelError("fatal", USAGE_LIMIT_MESSAGE, { status });
    if (error?.type === "usage_not_included") return new ModelError("fatal", USAGE_NOT_INCLUDED_MESSAGE, { status });
    return new ModelError("retryable", `exceeded retry limit, last status: ${statusLine(429, statusText)}`, {
      status,
      retryAfterMs: parseRetryAfter(headers, Date.now()),
    });
  }
  // 5xx are retried at request level (request_max_retries), then at stream level. Other statuses
  // (404: wrong base_url, ...) will not get better by asking again.
  return new ModelError("fatal", unexpected, { status });
}

/**
 * The text of an error response: at most ERROR_BODY_MAX_BYTES (an endless or inflating body is
 * cut there), read within one idle timeout in all (a trickling body is cut then).
 */
async function readErrorText(body: ReadableStream<Uint8Array> | undefined, signal: AbortSignal, idleTimeoutMs: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  const deadline = performance.now() + idleTimeoutMs;
  try {
    while (size < ERROR_BODY_MAX_BYTES) {
      const next = await raceAbort(withTimeout(reader.read(), deadline - performance.now()), signal);
      if (!next || next.done) break;
      const chunk = next.value.subarray(0, ERROR_BODY_MAX_BYTES - size);
      size += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
    }
    return text + decoder.decode();
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    return text;
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** The promise's value, or undefined once `ms` passed. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.min(Math.max(0, ms), 2_147_483_647));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

// ---------------------------------------------------------------------------------------------
// The SSE body

async function* readParts(events: EventFeed): AsyncGenerator<StreamPart> {
  try {
    for (;;) {
      const ev = await events.next();
      if (!ev) {
        throw new ModelError("retryable", `${DISCONNECTED}stream closed before response.completed`);
      }
      const part = toStreamPart(ev);
      if (part instanceof ModelError) throw part;
      if (!part) continue;
      if (part.type === "completed") {
        // Stop reading: whatever follows response.completed is of no use.
        events.cancel();
        yield part;
        return;
      }
      yield part;
    }
  } finally {
    events.cancel();
  }
}

/** The events of one response body, read within the provider's bounds. */
export interface EventFeed {
  /** The next event; undefined at the end of the body. Throws a ModelError past a bound. */
  next(): Promise<SseEvent | undefined>;
  cancel(): void;
}

/**
 * Reads a response body as events, bounded in silence (stream_idle_timeout_ms, per event: SSE
 * comments and blank lines are not progress), in duration (stream_max_duration_ms), in size
 * (stream_max_bytes, after decompression) and per event (stream_max_event_bytes). Silence is a
 * retryable disconnect, as in the reference; the other bounds fail the turn (a retry would
 * repeat, and pay for, the same endless or oversized response).
 */
export function openEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal, opts: Pick<ResponsesClientOptions, "provider" | "now">): EventFeed {
  const { provider } = opts;
  const now = opts.now ?? (() => performance.now());
  const maxDuration = provider.streamMaxDurationMs ?? STREAM_MAX_DURATION_MS;
  const maxBytes = provider.streamMaxBytes ?? STREAM_MAX_BYTES;
  const maxEvent = provider.streamMaxEventBytes ?? STREAM_MAX_EVENT_BYTES;
  const deadline = now() + maxDuration;
  const reader = sseEvents(body, { maxBytes, maxEventChars: maxEvent }).getReader();
  const tooLong = () =>
    new ModelError(
      "fatal",
      `the response did not complete within ${formatDuration(maxDuration)}; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)`,
    );
  return {
    async next() {
      const left = deadline - now();
      if (left <= 0) throw tooLong();
      const idle = provider.streamIdleTimeoutMs;
      try {
        const next = await nextEvent(reader, signal, Math.min(idle, left));
        return next.done ? undefined : next.value;
      } catch (err) {
        if (err instanceof ModelError && err.message === IDLE_MESSAGE && left <= idle) throw tooLong();
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof EventTooLargeError) {
          throw new ModelError(
            "fatal",
            `the model server sent one event larger than ${formatBytes(maxEvent)}; ocx stopped reading the response (raise stream_max_event_bytes to allow larger events)`,
          );
        }
        if (cause instanceof BodyTooLargeError) {
          throw new ModelError(
            "fatal",
            `the model server sent more than ${formatBytes(maxBytes)} without completing the response; ocx stopped reading it (raise stream_max_bytes to allow larger responses)`,
          );
        }
        throw err;
      }
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

const IDLE_MESSAGE = `${DISCONNECTED}idle timeout waiting for SSE`;

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<SseEvent>["read"]>>;

/** One read, bounded by the idle timeout (counted per SSE event, as the reference does) and the signal. */
export function nextEvent(
  reader: ReadableStreamDefaultReader<SseEvent>,
  signal: AbortSignal,
  idleTimeoutMs: number,
): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const cleanup = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanup();
      reject(signal.reason);
    };
    const timer = setTimeout(
      () => {
        cleanup();
        reject(new ModelError("retryable", IDLE_MESSAGE));
      },
      Math.min(Math.max(0, idleTimeoutMs), 2_147_483_647),
    );
    signal.addEventListener("abort", onAbort, { once: true });
    reader.read().then(
      (result) => {
        cleanup();
        resolve(result);
      },
      (err: unknown) => {
        cleanup();
        if (signal.aborted) reject(signal.reason);
        else reject(new ModelError("retryable", `${DISCONNECTED}${errorText(err)}`, { cause: err }));
      },
    );
  });
}

/** Maps one SSE event; undefined for events that carry nothing for us (or do not parse). */
export function toStreamPart(ev: SseEvent): StreamPart | ModelError | undefined {
  const data = asRecord(parseJson(ev.data));
  if (!data) return undefined;
  switch (data.type) {
    case "response.created": {
      const id = asRecord(data.response)?.id;
      return { type: "created", ...(typeof id === "string" ? { responseId: id } : {}) };
    }
    case "response.output_text.delta":
      return typeof data.delta === "string" ? { type: "text-delta", delta: data.delta } : undefined;
    case "response.reasoning_summary_text.delta":
    case "response.reasoning_text.delta":
      return typeof data.delta === "string" ? { type: "reasoning-delta", delta: data.delta } : undefined;
    case "response.output_item.added": {
      // Only hosted tools' items are shown as they begin; the rest wait for their done event.
      const item = asRecord(data.item);
      return item?.type === "web_search_call" ? { type: "item-added", item: item as ResponseItem } : undefined;
    }
    case "response.output_item.done": {
      const item = asRecord(data.item);
      return item && typeof item.type === "string" ? { type: "item-done", item: item as ResponseItem } : undefined;
    }
    case "response.completed": {
      const response = asRecord(data.response);
      const id = response?.id;
      return {
        type: "completed",
        ...(typeof id === "string" ? { responseId: id } : {}),
        usage: mapUsage(asRecord(response?.usage)),
      };
    }
    case "response.failed":
      return failedError(asRecord(asRecord(data.response)?.error));
    case "error":
      return failedError(asRecord(data.error) ?? data);
    default:
      return undefined;
  }
}

function failedError(error: Record<string, unknown> | undefined): ModelError {
  const code = typeof error?.code === "string" ? error.code : undefined;
  const message = typeof error?.message === "string" ? error.message : "";
  switch (code) {
    case "context_length_exceeded":
      return new ModelError("fatal", message || CONTEXT_WINDOW_MESSAGE, { contextWindow: true });
    case "insufficient_quota":
      return new ModelError("fatal", QUOTA_MESSAGE);
    case "usage_not_included":
      return new ModelError("fatal", USAGE_NOT_INCLUDED_MESSAGE);
    case "invalid_prompt":
      return new ModelError("fatal", message || "Invalid request.");
    case "rate_limit_exceeded":
      return new ModelError("retryable", DISCONNECTED + message, { retryAfterMs: parseTryAgainIn(message) });
    default:
      return new ModelError("retryable", DISCONNECTED + (error ? message : "response.failed event received"));
  }
}

/**
 * Whether an error body says the request did not fit the model's context window: the
 * `context_length_exceeded` code of OpenAI-compatible servers, llama.cpp's
 * `exceed_context_size_error`, or the wording vLLM and others use.
 */
export function isContextWindowError(error: Record<string, unknown> | undefined, message: string): boolean {
  if (error?.code === "context_length_exceeded" || error?.type === "exceed_context_size_error") return true;
  return /maximum context length|context window|exceeds? the (available )?context (size|length)|context_length_exceeded/i.test(message);
}

function mapUsage(usage: Record<string, unknown> | undefined): Usage {
  return {
    input_tokens: count(usage?.input_tokens),
    cached_input_tokens: count(asRecord(usage?.input_tokens_details)?.cached_tokens),
    cache_write_input_tokens: 0,
    output_tokens: count(usage?.output_tokens),
    reasoning_output_tokens: count(asRecord(usage?.output_tokens_details)?.reasoning_tokens),
  };
}

// ---------------------------------------------------------------------------------------------
// small helpers

export function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
