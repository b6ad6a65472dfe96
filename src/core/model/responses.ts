// The Responses API adapter: POST {baseUrl}/responses, retry the request on 5xx and transport
// errors, then turn the SSE body into StreamParts (spec §6.1, §6.2, §6.4).
import { trimTrailingSlashes } from "../util/format.ts";
import { timerDelay } from "../util/duration.ts";
import type { Usage } from "../events.ts";
import type { ByteLoops } from "../runtime.ts";
import { createRedactor } from "../redact.ts";
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
import { parseEventJson, parseEventText, parseJson } from "./event-json.ts";
import { BodyTooLargeError, EventTooLargeError, SseDecoder, type SseEvent, type SseLimits } from "./sse.ts";
import {
  type ModelClient,
  ModelError,
  type ModelRequest,
  type ProviderInfo,
  type ResponseItem,
  type StreamPart,
} from "./types.ts";
import { itemJsonByteLength, itemJsonBytes } from "./item-json.ts";

export interface ResponsesClientOptions {
  fetch: typeof fetch;
  provider: ProviderInfo;
  /** Extra headers (session ids, originator, ...); they win over provider.headers. */
  headers: Record<string, string>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Monotonic milliseconds (the stream's duration cap). */
  now?: () => number;
  /** Runtime.collectGarbage: called now and then while a large streamed body is made. */
  collectGarbage?: () => void;
  /** Called each time a request has been handed to fetch, before its answer is awaited. */
  onSent?: () => void;
  /** Runtime.loadByteLoops. */
  loadByteLoops?: () => Promise<ByteLoops | null>;
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
  // The runtime's native loops, asked for once the first request is on its way.
  let loading: Promise<ByteLoops | null> | undefined;
  const onSent = () => {
    opts.onSent?.();
    if (opts.loadByteLoops) loading ??= opts.loadByteLoops().catch(() => null);
  };
  const post = streamingPost({ ...opts, onSent }, endpointUrl(opts.provider, "responses"));
  return {
    stream: (request, signal) => {
      let loops: ByteLoops | undefined;
      return readParts(
        async () => {
          const body = await post(responsesBody(request), signal, request.headers);
          loops = (await loading) ?? undefined;
          return openEvents(body, signal, { ...opts, skip: IGNORED_EVENTS, raw: RAW_EVENTS, ...(loops ? { skipEvents: loops.skipEvents } : {}) });
        },
        (ev) => toStreamPart(ev, loops),
      );
    },
  };
}

/**
 * POST a JSON body to `url` and hand back the streaming response body: request-level retries
 * (5xx, transport errors), 401 recovery through the provider's credentials, and HTTP errors
 * classified for the retry policy. Shared by every wire API.
 */
export function streamingPost(opts: ResponsesClientOptions, url: string) {
  const { provider } = opts;
  const sleep = opts.sleep ?? abortableSleep;
  const random = opts.random ?? Math.random;
  // The provider's credentials never reach an error's text (the run's sinks redact more still).
  const redactor = createRedactor(() => provider.auth?.secrets() ?? []);
  const redact = (text: string) => redactor.text(text);

  type Attempt = { body: ReadableStream<Uint8Array> } | { error: ModelError; retry: boolean; retryAfterMs?: number };
  const retryAfterMax = provider.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS;

  async function attempt(body: string | StreamedBody, headers: Headers, signal: AbortSignal): Promise<Attempt> {
    let res;
    // A server that takes the request and never answers is silence too: the response headers
    // are due within stream_idle_timeout_ms (the body's own bounds start once they are in).
    const idle = provider.streamIdleTimeoutMs;
    const headersDue = new AbortController();
    const timer = setTimeout(
      () => headersDue.abort(new Error(`no response within ${formatDuration(idle)} (stream_idle_timeout_ms)`)),
      timerDelay(idle),
    );
    /** What made the streamed body fail (then the request fails with it, not as a transport error). */
    const made: { error?: unknown } = {};
    try {
      if (typeof body !== "string") headers.set("content-length", String(body.byteLength));
      // fetch itself: this request needs none of ofetch's conveniences (its retries, parsing and
      // error statuses are all ocx's own here), and loading it would delay the first request.
      const sent = opts.fetch(url, {
        method: "POST",
        headers,
        body: typeof body === "string" ? body : bodyStream(body, made, opts.collectGarbage),
        signal: AbortSignal.any([signal, headersDue.signal]),
        // A stream body is sent as it is made (fetch implementations that follow the spec require it).
        ...(typeof body === "string" ? {} : { duplex: "half" }),
      } as RequestInit);
      opts.onSent?.();
      res = await sent;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if ("error" in made) throw made.error;
      const cause = headersDue.signal.aborted ? headersDue.signal.reason : err;
      const message = redact(`error sending request for url (${url}): ${errorText(cause)}`);
      // Retried here, at request level; once those retries are spent the turn fails.
      return { error: new ModelError("fatal", message, { cause }), retry: true };
    } finally {
      clearTimeout(timer);
    }
    if (res.status >= 200 && res.status < 300) {
      return { body: res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }) };
    }
    const text = await readErrorText(res.body ?? undefined, signal, provider.streamIdleTimeoutMs);
    const error = httpError(res.status, res.statusText, res.headers, text, url, redact);
    if (res.status < 500) return { error, retry: false };
    return { error, retry: true, retryAfterMs: parseRetryAfter(res.headers, Date.now()) };
  }

  return async function send(body: string | StreamedBody, signal: AbortSignal, extra: Record<string, string> = {}): Promise<ReadableStream<Uint8Array>> {
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

/** How many bytes of a streamed body are made between two calls of collectGarbage. */
const COLLECT_EVERY = 8 * 1024 * 1024;

/**
 * A fresh stream of a StreamedBody's bytes, made as they are read; every COLLECT_EVERY bytes the
 * texts serialised for them (garbage once encoded) are collected. When making them fails, the
 * error is kept in `made` (and the stream errors).
 */
function bodyStream(body: StreamedBody, made: { error?: unknown }, collectGarbage?: () => void): ReadableStream<Uint8Array> {
  const chunks = body.chunks();
  let sinceCollect = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (collectGarbage && sinceCollect >= COLLECT_EVERY) {
        collectGarbage();
        sinceCollect = 0;
      }
      let next: IteratorResult<Uint8Array>;
      try {
        next = chunks.next();
      } catch (e) {
        made.error = e;
        throw e;
      }
      if (next.done) controller.close();
      else {
        sinceCollect += next.value.length;
        controller.enqueue(next.value);
      }
    },
  }, { highWaterMark: 0 });
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

/**
 * A request body serialised while it is sent: its UTF-8 length is known beforehand (it goes out
 * with a Content-Length, as any other body), its bytes are made a chunk at a time.
 */
export interface StreamedBody {
  byteLength: number;
  /** The body's bytes, from the start (each call starts again: a retry sends it anew). */
  chunks(): Iterator<Uint8Array>;
}

/** The size of the chunks a streamed body is made in (an item larger than this is one chunk of its own). */
const CHUNK_BYTES = 256 * 1024;

/**
 * The request body: JSON.stringify(buildResponsesBody(request)), as that text; or, when input
 * items restored from a rollout know their JSON's length (itemJsonByteLength), the same bytes as a
 * StreamedBody: the length is summed without serialising anything, and each item is serialised
 * only as the body is sent, or its bytes copied from where they are kept (itemJsonBytes: the
 * session file). A resumed 50 MB history then starts going out at once, and no copy of the whole
 * body is ever held.
 */
export function responsesBody(request: ModelRequest): string | StreamedBody {
  const body = buildResponsesBody(request);
  const input = request.input;
  const known = (item: unknown) => (item !== null && typeof item === "object" ? itemJsonByteLength(item as ResponseItem) : undefined);
  if (!Array.isArray(input) || !anyKnown(input, known)) return JSON.stringify(body);
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
  const open = `${head}${head.length > 1 ? "," : ""}"input":[`;
  const close = `]${tail.length > 1 ? "," : ""}${tail}`;
  // Items of unknown length are serialised now (to be counted); the others when sent. (One loop:
  // a resumed history has thousands of items, and each pass over them costs.)
  const unknownJson: Array<string | undefined> = new Array(input.length);
  const lengths: number[] = new Array(input.length);
  let byteLength = utf8Length(open) + utf8Length(close) + Math.max(0, input.length - 1);
  for (let i = 0; i < input.length; i++) {
    let length = known(input[i]);
    if (length === undefined) {
      const json = JSON.stringify(input[i]) ?? "null";
      unknownJson[i] = json;
      length = utf8Length(json);
    }
    lengths[i] = length;
    byteLength += length;
  }
  function* chunks(): Generator<Uint8Array> {
    // Each chunk the size of what is left, up to CHUNK_BYTES: a small body (a short resumed
    // thread) makes one array its size, not arrays of 256 KB whose allocation sets off a
    // collection before the request.
    let handedOut = 0;
    const next = () => new Uint8Array(Math.min(CHUNK_BYTES, Math.max(0, byteLength - handedOut)));
    let chunk = next();
    let used = 0;
    /** The bytes so far, handed out (a new array for what follows). */
    const take = (): Uint8Array => {
      const full = chunk.subarray(0, used);
      handedOut += used;
      chunk = next();
      used = 0;
      return full;
    };
    /** Encodes `text` into the chunks; yields those it fills; returns its UTF-8 length. */
    function* put(text: string): Generator<Uint8Array, number> {
      let written = 0;
      for (let from = 0; ; ) {
        const r = encoder.encodeInto(from === 0 ? text : text.slice(from), chunk.subarray(used));
        used += r.written;
        written += r.written;
        from += r.read;
        if (from >= text.length) return written;
        if (r.written === 0 && used === 0) throw new Error("a request body longer than its announced length");
        yield take();
      }
    }
    yield* put(open);
    for (let i = 0; i < input.length; i++) {
      if (i > 0) yield* put(",");
      const item = input[i] as ResponseItem;
      const source = unknownJson[i] === undefined ? itemJsonBytes(item) : undefined;
      const length = lengths[i]!;
      if (source) {
        // Copied as it is kept: into this chunk when it fits, else the next (its own when larger).
        if (used + length > chunk.length && used > 0) yield take();
        if (length > chunk.length) chunk = new Uint8Array(length);
        source.copyTo(chunk.subarray(used, used + length));
        used += length;
        continue;
      }
      // Restored items were proven equal to their JSON when the rollout was read; one changed
      // since is a bug, and must not become a body whose length was announced otherwise.
      const written = yield* put(unknownJson[i] ?? JSON.stringify(item));
      if (written !== length) throw new Error("a restored history item changed after it was read");
    }
    yield* put(close);
    yield take();
  }
  return { byteLength, chunks };
}

/** The UTF-8 length of a string (without encoding it). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 4 bytes for 2 code units
      i++;
    } else n += 2; // 3 bytes (a lone surrogate becomes U+FFFD, 3 bytes too)
  }
  return n;
}

/** Whether any item's JSON length is known (a loop: Array#some's first use costs a compiled binary 20 µs). */
function anyKnown(input: readonly unknown[], known: (item: unknown) => number | undefined): boolean {
  for (const item of input) if (known(item) !== undefined) return true;
  return false;
}

export function endpointUrl(provider: ProviderInfo, path: string): string {
  const base = trimTrailingSlashes(provider.baseUrl);
  const query = Object.keys(provider.queryParams).length > 0 ? new URLSearchParams(provider.queryParams).toString() : "";
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
    timer = setTimeout(() => resolve(undefined), timerDelay(ms));
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

async function* readParts(open: () => Promise<EventFeed>, map: (ev: SseEvent) => StreamPart | ModelError | undefined = toStreamPart): AsyncGenerator<StreamPart> {
  const events = await open();
  try {
    for (;;) {
      const ev = events.take() ?? ((await events.fill()) ? events.take() : undefined);
      if (ev === undefined) throw new ModelError("retryable", `${DISCONNECTED}stream closed before response.completed`);
      const part = map(ev);
      if (!part) continue;
      if (part instanceof ModelError) throw part;
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

/**
 * The events of one response body, read within the provider's bounds. `take` hands out the
 * events read so far one by one, without waiting; `fill` reads (one body chunk at a time) until
 * there are more. `next` is the two together.
 */
export interface EventFeed {
  /** The next event; undefined at the end of the body. Throws a ModelError past a bound. */
  next(): Promise<SseEvent | undefined>;
  /** The next event already read, or undefined when there is none yet. Throws once aborted or past the duration cap. */
  take(): SseEvent | undefined;
  /** Reads until there is an event to take (true) or the body ended (false). Throws a ModelError past a bound. */
  fill(): Promise<boolean>;
  cancel(): void;
}

/**
 * Reads a response body as events, bounded in silence (stream_idle_timeout_ms, per event: SSE
 * comments and blank lines are not progress), in duration (stream_max_duration_ms), in size
 * (stream_max_bytes, after decompression) and per event (stream_max_event_bytes). Silence is a
 * retryable disconnect, as in the reference; the other bounds fail the turn (a retry would
 * repeat, and pay for, the same endless or oversized response).
 */
export function openEvents(body: ReadableStream<Uint8Array>, signal: AbortSignal, opts: EventOptions): EventFeed {
  return new BoundedEvents(body, signal, opts);
}

/** What openEvents reads a body with: the provider's bounds, the clock, and event types not read (SseLimits.skip). */
type EventOptions = Pick<ResponsesClientOptions, "provider" | "now"> & Pick<SseLimits, "skip" | "raw" | "skipEvents">;

const IDLE_MESSAGE = `${DISCONNECTED}idle timeout waiting for SSE`;

/**
 * One reader loop over the body: a read per chunk (not per event), the chunk parsed at once
 * (SseDecoder), one abort listener for the whole body, and one timer for the whole body that
 * fires at least once per idle timeout and checks what is due: a wait for events records when
 * it began (no timer is set or cleared per event or per read); a wait that went on too long, or
 * the deadline, ends the body: the pending read returns, and the failure is thrown in its place.
 */
class BoundedEvents implements EventFeed {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder: SseDecoder;
  private readonly now: () => number;
  private readonly idle: number;
  private readonly maxDuration: number;
  private readonly maxBytes: number;
  private readonly maxEvent: number;
  private readonly deadline: number;
  private queue: SseEvent[] = [];
  /** SseDecoder.skippedEvents when last looked at. */
  private skippedSeen = 0;
  private head = 0;
  /** Ended: the body finished, failed, or was cancelled (nothing more will be read). */
  private closed = false;
  /** The deadline passed (seen by the timer) while events were being handed out. */
  private expired = false;
  /** Why the body was cut while a read was pending (silence, the deadline, the signal). */
  private failure: unknown = undefined;
  private hasFailure = false;
  /** When the current wait for an event began; waiting says whether one is on. */
  private waitingSince = 0;
  private waiting = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly signal: AbortSignal,
    opts: EventOptions,
  ) {
    const { provider } = opts;
    this.now = opts.now ?? (() => performance.now());
    this.idle = provider.streamIdleTimeoutMs;
    this.maxDuration = provider.streamMaxDurationMs ?? STREAM_MAX_DURATION_MS;
    this.maxBytes = provider.streamMaxBytes ?? STREAM_MAX_BYTES;
    this.maxEvent = provider.streamMaxEventBytes ?? STREAM_MAX_EVENT_BYTES;
    const start = this.now();
    this.deadline = start + this.maxDuration;
    this.decoder = new SseDecoder({ maxBytes: this.maxBytes, maxEventBytes: this.maxEvent, skip: opts.skip, raw: opts.raw, ...(opts.skipEvents ? { skipEvents: opts.skipEvents } : {}) });
    this.reader = body.getReader();
    signal.addEventListener("abort", this.onAbort, { once: true });
    this.arm(start, Math.min(this.deadline, start + this.idle));
  }

  take(): SseEvent | undefined {
    if (this.expired) throw this.end(this.tooLong());
    if (this.signal.aborted) throw this.end(this.signal.reason);
    if (this.head < this.queue.length) return this.queue[this.head++];
    return undefined;
  }

  async next(): Promise<SseEvent | undefined> {
    const ev = this.take();
    if (ev !== undefined) return ev;
    return (await this.fill()) ? this.take() : undefined;
  }

  async fill(): Promise<boolean> {
    if (this.head < this.queue.length) return true;
    if (this.closed) return false;
    const start = this.now();
    if (start >= this.deadline) throw this.end(this.tooLong());
    if (this.signal.aborted) throw this.end(this.signal.reason);
    this.queue.length = 0;
    this.head = 0;
    this.waitingSince = start;
    this.waiting = true;
    try {
      for (;;) {
        let next: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;
        try {
          next = await this.reader.read();
        } catch (err) {
          if (this.hasFailure) throw this.failure;
          if (this.signal.aborted) throw this.signal.reason;
          throw new ModelError("retryable", `${DISCONNECTED}${errorText(err)}`, { cause: err });
        }
        if (this.hasFailure) throw this.failure;
        if (next.done) {
          this.end(undefined);
          return false;
        }
        try {
          this.decoder.push(next.value, this.queue);
        } catch (err) {
          throw this.boundError(err);
        }
        if (this.queue.length > 0) return true;
        // Events nobody reads are not handed out, but they are progress all the same.
        const skipped = this.decoder.skippedEvents;
        if (skipped !== this.skippedSeen) {
          this.skippedSeen = skipped;
          this.waitingSince = this.now();
        }
      }
    } catch (err) {
      throw this.end(err);
    } finally {
      this.waiting = false;
    }
  }

  cancel(): void {
    this.end(undefined);
  }

  /** Stops everything (timer, listener, body); returns `err` for throwing. */
  private end(err: unknown): unknown {
    if (!this.closed) {
      this.closed = true;
      this.queue.length = 0;
      this.head = 0;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.signal.removeEventListener("abort", this.onAbort);
      this.reader.cancel().catch(() => {});
    }
    return err;
  }

  /** Cuts the body while a read may be pending: the read returns, and `err` is thrown instead. */
  private cut(err: unknown): void {
    if (this.closed || this.hasFailure) return;
    this.failure = err;
    this.hasFailure = true;
    this.reader.cancel().catch(() => {});
  }

  private readonly onAbort = () => this.cut(this.signal.reason);

  private arm(now: number, at: number): void {
    this.timer = setTimeout(this.onTimer, timerDelay(at - now));
  }

  private readonly onTimer = () => {
    this.timer = undefined;
    if (this.closed) return;
    const now = this.now();
    // Without a wait on, only the deadline can be due; the next wait starts after `now`.
    const idleEnd = (this.waiting ? this.waitingSince : now) + this.idle;
    if (now >= this.deadline || (this.waiting && now >= idleEnd)) {
      // The deadline, when it comes first, is what ends the response.
      const error = this.deadline <= idleEnd ? this.tooLong() : new ModelError("retryable", IDLE_MESSAGE);
      if (this.waiting) this.cut(error);
      else this.expired = true;
      return;
    }
    this.arm(now, Math.min(this.deadline, idleEnd));
  };

  private tooLong(): ModelError {
    return new ModelError(
      "fatal",
      `the response did not complete within ${formatDuration(this.maxDuration)}; ocx stopped reading it (raise stream_max_duration_ms to allow longer responses)`,
    );
  }

  private boundError(err: unknown): unknown {
    if (err instanceof EventTooLargeError) {
      return new ModelError(
        "fatal",
        `the model server sent one event larger than ${formatBytes(this.maxEvent)}; ocx stopped reading the response (raise stream_max_event_bytes to allow larger events)`,
      );
    }
    if (err instanceof BodyTooLargeError) {
      return new ModelError(
        "fatal",
        `the model server sent more than ${formatBytes(this.maxBytes)} without completing the response; ocx stopped reading it (raise stream_max_bytes to allow larger responses)`,
      );
    }
    return err;
  }
}

/**
 * Events that carry nothing for us, by the SSE event name servers give them (as the data's own
 * `type`): their data is not even parsed. Several repeat a whole answer (output_text.done,
 * content_part.done), so a 1 MB answer would otherwise be parsed twice more for nothing. The
 * deltas are among them: exec shows an answer or a reasoning summary only once it is complete
 * (response.output_item.done, the authoritative copy), as the reference's exec does; their
 * events still count as progress (stream_idle_timeout_ms).
 */
export const IGNORED_EVENTS: ReadonlySet<string> = new Set([
  "response.in_progress",
  "response.output_text.delta",
  "response.reasoning_summary_text.delta",
  "response.reasoning_text.delta",
  "response.content_part.added",
  "response.content_part.done",
  "response.output_text.done",
  "response.reasoning_summary_part.added",
  "response.reasoning_summary_part.done",
  "response.reasoning_summary_text.done",
  "response.reasoning_text.done",
  "response.function_call_arguments.delta",
  "response.function_call_arguments.done",
  "response.custom_tool_call_input.delta",
  "response.custom_tool_call_input.done",
]);

/**
 * The events that may be large, read from their bytes (event-json.ts). response.completed is read
 * without its long strings: its output repeats the items (and the answer) that came in their own
 * events, and only its id and usage are read.
 */
const RAW_EVENTS: ReadonlySet<string> = new Set(["response.output_item.done", "response.completed"]);

/** Maps one SSE event; undefined for events that carry nothing for us (or do not parse). */
export function toStreamPart(ev: SseEvent, loops?: ByteLoops): StreamPart | ModelError | undefined {
  if (ev.event !== undefined && IGNORED_EVENTS.has(ev.event)) return undefined;
  const long = ev.event === "response.completed" ? "drop" : "keep";
  const data = asRecord(ev.bytes ? parseEventJson(ev.bytes, loops, long) : parseEventText(ev.data, long));
  if (!data) return undefined;
  switch (data.type) {
    case "response.created": {
      const id = asRecord(data.response)?.id;
      return { type: "created", ...(typeof id === "string" ? { responseId: id } : {}) };
    }
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
      // Other servers say it in words, with another code or none: recognised as on HTTP 400.
      if (isContextWindowError(error, message)) return new ModelError("fatal", message, { contextWindow: true });
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

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
